# The native CPU backend (DESIGN §3): plain C + N-API, built by node-gyp on `npm ci`.
# One static library per instruction set, each compiled from native/kernels.h with its own
# flags (never -march=native), linked into one addon that picks a library at run time
# (native/dispatch.c). avx512bf16 adds the GEMMs with bf16 operands (native/gemm_bf16.h).
{
  "target_defaults": {
    "cflags": ["-O3", "-fvisibility=hidden", "-ffp-contract=fast", "-fno-math-errno", "-fPIC", "-Wall", "-Wno-unused-function"],
    "cflags_c": ["-std=gnu11"],
    "cflags!": ["-O2", "-Os"],
    "xcode_settings": {
      "OTHER_CFLAGS": ["-O3", "-fvisibility=hidden", "-ffp-contract=fast", "-fno-math-errno", "-std=gnu11"],
      "GCC_SYMBOLS_PRIVATE_EXTERN": "YES"
    }
  },
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "fathom_kernels_avx512",
          "type": "static_library",
          "sources": ["native/kernels_avx512.c"],
          "cflags": ["-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma"],
          "xcode_settings": { "OTHER_CFLAGS": ["-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma"] }
        },
        {
          "target_name": "fathom_kernels_avx512bf16",
          "type": "static_library",
          "sources": ["native/kernels_avx512bf16.c"],
          "cflags": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx512bf16", "-mavx2", "-mfma"],
          "xcode_settings": { "OTHER_CFLAGS": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx512bf16", "-mavx2", "-mfma"] }
        },
        {
          "target_name": "fathom_kernels_avx2",
          "type": "static_library",
          "sources": ["native/kernels_avx2.c"],
          "cflags": ["-mavx2", "-mfma"],
          "xcode_settings": { "OTHER_CFLAGS": ["-mavx2", "-mfma"] }
        },
        {
          "target_name": "fathom_kernels_avx2x16",
          "type": "static_library",
          "sources": ["native/kernels_avx2x16.c"],
          "cflags": ["-mavx2", "-mfma", "-Wno-psabi"],
          "xcode_settings": { "OTHER_CFLAGS": ["-mavx2", "-mfma"] }
        }
      ]
    }]
  ],
  "targets": [
    {
      "target_name": "fathom_native",
      "sources": ["native/addon.c", "native/pool.c", "native/dispatch.c", "native/kernels_generic.c"],
      "include_dirs": ["native"],
      "libraries": ["-lm"],
      "conditions": [
        ["OS=='linux'", { "ldflags": ["-Wl,-Bsymbolic", "-pthread"] }],
        ["target_arch=='x64'", {
          "defines": ["FATHOM_HAVE_X64_KERNELS"],
          "dependencies": ["fathom_kernels_avx512", "fathom_kernels_avx512bf16", "fathom_kernels_avx2", "fathom_kernels_avx2x16"]
        }]
      ]
    }
  ]
}
