//! Every WGSL source parses and validates with naga (the compiler inside wgpu), with no adapter.

#[test]
fn every_wgsl_source_validates() {
    let modules = crema_kernels::wgsl_modules();
    assert!(!modules.is_empty());
    for (name, source) in &modules {
        let module =
            naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::default())
            .validate(&module)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
}
