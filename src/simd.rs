//! Which code paths the hot loops take. On x86-64 CPUs with AVX2, the
//! normal draws (`kernel::normals`), `exp` (`kernel::exp`) and the
//! statistics ingest (`stats`) run code built for AVX2, and the kernel
//! (`kernel::simulate_path`) a copy built for AVX2 and the bit-manipulation
//! instructions of its generation (`v3`); elsewhere, or with
//! the environment variable `CAPSIM_PLAIN` set (to anything), the plain
//! code. Both give the same bits (the tests run whole scenarios both ways
//! and compare the output files).

/// Whether the AVX2 code paths run: the CPU has AVX2 and `CAPSIM_PLAIN` is
/// not set (read once per process).
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn avx2() -> bool {
    static PLAIN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    std::arch::is_x86_feature_detected!("avx2")
        && !*PLAIN.get_or_init(|| std::env::var_os("CAPSIM_PLAIN").is_some())
}

/// Whether the kernel's copy for x86-64 CPUs of AVX2's generation runs
/// (`kernel::simulate_path`): the CPU has AVX2, BMI1, BMI2, LZCNT and
/// POPCNT, and `CAPSIM_PLAIN` is not set.
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn v3() -> bool {
    // Asked once per path: one load after the first time.
    static V3: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *V3.get_or_init(|| {
        avx2()
            && std::arch::is_x86_feature_detected!("bmi1")
            && std::arch::is_x86_feature_detected!("bmi2")
            && std::arch::is_x86_feature_detected!("lzcnt")
            && std::arch::is_x86_feature_detected!("popcnt")
    })
}
