{
  "targets": [
    {
      "target_name": "cellblock",
      "sources": [
        "src/addon.cc",
        "src/mount-plan.cc",
        "src/supervise.c",
        "src/child-init.c",
        "src/cgroup.c",
        "src/cgroup-v1.c",
        "src/cgroup-v2.c",
        "src/seccomp-policy.c"
      ],
      "include_dirs": ["<!@(node -p \"require('node-addon-api').include\")"],
      "dependencies": ["<!(node -p \"require('node-addon-api').gyp\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags": ["-Wall", "-Wextra", "-Werror", "-Wno-format-truncation", "-O2", "-fno-strict-aliasing"],
      "cflags_c": ["-std=gnu17", "-Wswitch-enum"],
      "cflags_cc": ["-std=gnu++17", "-fexceptions"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-lseccomp"]
    }
  ]
}
