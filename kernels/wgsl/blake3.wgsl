// BLAKE3 of many independent inputs (Merkle leaves): one invocation hashes one input.
//
// Inputs are packed word-aligned in `data` (each zero-padded to a multiple of 4 bytes);
// `spans[2i]` is input i's first word, `spans[2i+1]` its length in bytes. The digest of input
// i goes to `out[8i..8i+8]` as little-endian words, exactly the bytes of the `blake3` crate.
// One invocation per input keeps the kernel simple and branch-free across a warp when leaves
// have equal sizes (the VID case); a chunk-parallel variant for huge single inputs is future work.

struct Params {
    count: u32,
    // Invocations per row of the 2-D dispatch (dispatch limits cap a row at 65535 groups).
    row_width: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> data: array<u32>;
@group(0) @binding(1) var<storage, read> spans: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<uniform> params: Params;

const IV = array<u32, 8>(0x6A09E667u, 0xBB67AE85u, 0x3C6EF372u, 0xA54FF53Au,
                         0x510E527Fu, 0x9B05688Cu, 0x1F83D9ABu, 0x5BE0CD19u);
const PERM = array<u32, 16>(2u, 6u, 3u, 10u, 7u, 0u, 4u, 13u, 1u, 11u, 12u, 5u, 9u, 14u, 15u, 8u);
const CHUNK_START: u32 = 1u;
const CHUNK_END: u32 = 2u;
const PARENT: u32 = 4u;
const ROOT: u32 = 8u;
const MAX_DEPTH: u32 = 32u; // inputs up to 2^32 chunks: far beyond any binding

fn rotr(x: u32, n: u32) -> u32 {
    return (x >> n) | (x << (32u - n));
}

// The compression function: returns all 16 output words.
fn compress(cv: array<u32, 8>, block: array<u32, 16>, counter: u32, block_len: u32, flags: u32) -> array<u32, 16> {
    var s = array<u32, 16>(cv[0], cv[1], cv[2], cv[3], cv[4], cv[5], cv[6], cv[7],
                           IV[0], IV[1], IV[2], IV[3], counter, 0u, block_len, flags);
    var m = block;
    for (var r = 0u; r < 7u; r++) {
        // Columns, then diagonals: G(a, b, c, d, m[2i], m[2i+1]).
        for (var i = 0u; i < 8u; i++) {
            var a: u32; var b: u32; var c: u32; var d: u32;
            if (i < 4u) {
                a = i; b = i + 4u; c = i + 8u; d = i + 12u;
            } else {
                a = i - 4u; b = 4u + (i - 3u) % 4u; c = 8u + (i - 2u) % 4u; d = 12u + (i - 1u) % 4u;
            }
            s[a] = s[a] + s[b] + m[2u * i];
            s[d] = rotr(s[d] ^ s[a], 16u);
            s[c] = s[c] + s[d];
            s[b] = rotr(s[b] ^ s[c], 12u);
            s[a] = s[a] + s[b] + m[2u * i + 1u];
            s[d] = rotr(s[d] ^ s[a], 8u);
            s[c] = s[c] + s[d];
            s[b] = rotr(s[b] ^ s[c], 7u);
        }
        var p: array<u32, 16>;
        for (var i = 0u; i < 16u; i++) {
            p[i] = m[PERM[i]];
        }
        m = p;
    }
    for (var i = 0u; i < 8u; i++) {
        s[i] = s[i] ^ s[i + 8u];
        s[i + 8u] = s[i + 8u] ^ cv[i];
    }
    return s;
}

fn first8(s: array<u32, 16>) -> array<u32, 8> {
    return array<u32, 8>(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]);
}

// Words of one 64-byte block: bytes past the input's end are zero (the packing pads them).
fn load_block(first_word: u32, byte_pos: u32, len: u32) -> array<u32, 16> {
    var b: array<u32, 16>;
    for (var j = 0u; j < 16u; j++) {
        if (byte_pos + 4u * j < len) {
            b[j] = data[first_word + byte_pos / 4u + j];
        } else {
            b[j] = 0u;
        }
    }
    return b;
}

// A pending compression: everything but the ROOT flag, which only the caller knows.
struct Output {
    cv: array<u32, 8>,
    block: array<u32, 16>,
    counter: u32,
    block_len: u32,
    flags: u32,
}

// Compresses every block of chunk `c` but the last, and returns the last as an Output.
fn chunk_output(first_word: u32, len: u32, c: u32) -> Output {
    let start = c * 1024u;
    let chunk_len = min(1024u, len - min(len, start));
    let blocks = max(1u, (chunk_len + 63u) / 64u);
    var cv = IV;
    for (var b = 0u; b + 1u < blocks; b++) {
        var flags = 0u;
        if (b == 0u) { flags = CHUNK_START; }
        cv = first8(compress(cv, load_block(first_word, start + 64u * b, len), c, 64u, flags));
    }
    var flags = CHUNK_END;
    if (blocks == 1u) { flags = flags | CHUNK_START; }
    let last = blocks - 1u;
    return Output(cv, load_block(first_word, start + 64u * last, len), c, chunk_len - 64u * last, flags);
}

fn parent_output(left: array<u32, 8>, right: array<u32, 8>) -> Output {
    let block = array<u32, 16>(left[0], left[1], left[2], left[3], left[4], left[5], left[6], left[7],
                               right[0], right[1], right[2], right[3], right[4], right[5], right[6], right[7]);
    return Output(IV, block, 0u, 64u, PARENT);
}

fn chaining_value(o: Output) -> array<u32, 8> {
    return first8(compress(o.cv, o.block, o.counter, o.block_len, o.flags));
}

@compute @workgroup_size(64)
fn blake3_many(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x + id.y * params.row_width;
    if (i >= params.count) {
        return;
    }
    let first_word = spans[2u * i];
    let len = spans[2u * i + 1u];
    let chunks = max(1u, (len + 1023u) / 1024u);
    // The chaining-value stack of the incremental hasher: every complete left subtree.
    var stack: array<array<u32, 8>, MAX_DEPTH>;
    var depth = 0u;
    for (var c = 0u; c + 1u < chunks; c++) {
        var cv = chaining_value(chunk_output(first_word, len, c));
        var total = c + 1u;
        while ((total & 1u) == 0u) {
            depth -= 1u;
            cv = chaining_value(parent_output(stack[depth], cv));
            total = total >> 1u;
        }
        stack[depth] = cv;
        depth += 1u;
    }
    var o = chunk_output(first_word, len, chunks - 1u);
    while (depth > 0u) {
        depth -= 1u;
        o = parent_output(stack[depth], chaining_value(o));
    }
    let root = compress(o.cv, o.block, o.counter, o.block_len, o.flags | ROOT);
    for (var w = 0u; w < 8u; w++) {
        out[8u * i + w] = root[w];
    }
}
