"""The CPU line benches print: instruction sets read from /proc/cpuinfo and the machine class."""
from pathlib import Path

from stylecast.machine import available_memory, cpu_info


def _cpuinfo(tmp_path: Path, flags: str) -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: AMD EPYC Test\nflags\t\t: fpu sse2 {flags}\n\n"
                    f"processor\t: 1\nmodel name\t: AMD EPYC Test\nflags\t\t: fpu sse2 {flags}\n")
    return path


def test_avx2_only_laptop(tmp_path):
    info = cpu_info(_cpuinfo(tmp_path, "avx avx2 fma"))
    assert info.isa == ("AVX2",) and info.machine_class == "AVX2" and info.model == "AMD EPYC Test"
    assert "AVX2 (class AVX2)" in info.line()


def test_vnni_and_amx_classes(tmp_path):
    assert cpu_info(_cpuinfo(tmp_path, "avx2 avx512f avx512_vnni")).machine_class == "AVX-512 VNNI"
    amx = cpu_info(_cpuinfo(tmp_path, "avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile"))
    assert amx.machine_class == "AMX" and amx.isa == ("AVX2", "AVX-512", "VNNI", "AVX512-BF16", "AMX")
    assert "oneDNN limited to AVX2" in amx.line("AVX2") and amx.to_dict("AVX2")["isa_limit"] == "AVX2"


def test_no_cpuinfo_is_not_an_error(tmp_path):
    info = cpu_info(tmp_path / "missing")
    assert info.isa == () and info.machine_class == "pre-AVX2" and info.cores >= 1


def test_this_machine():
    assert cpu_info().cores >= 1


def test_free_memory_is_read_from_meminfo(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemFree:         1000000 kB\nMemAvailable:   20000000 kB\n")
    assert available_memory(meminfo) == 20000000 * 1024
    assert available_memory(tmp_path / "missing") is None
    assert (available_memory() or 1) > 0
