{
  "targets": [
    {
      "target_name": "cellblock",
      "sources": [
        "src/addon.cc",
        "src/mount-plan.cc",
        "src/job-encode.cc",
        "src/slot-runner.cc",
        "src/standby.c",
        "src/id-map.c",
        "src/supervise.c",
        "src/run-io.c",
        "src/classify-run.c",
        "src/fsize-evidence.c",
        "src/hand-over.c",
        "src/run-names.c",
        "src/container-setup.c",
        "src/cgroup.c",
        "src/cgroup-v1.c",
        "src/cgroup-v2.c",
        "src/clone-into-cgroup.c",
        "src/seccomp-policy.c",
        "src/host-files.c",
        "src/seccomp-ioctl.c"
      ],
      "include_dirs": [
        "<!@(node -p \"require('node-addon-api').include\")"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').gyp\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS"
      ],
      "cflags": [
        "-Wall",
        "-Wextra",
        "-Werror",
        "-Wno-format-truncation",
        "-O2",
        "-fno-strict-aliasing"
      ],
      "cflags_c": [
        "-std=gnu17",
        "-Wswitch-enum"
      ],
      "cflags_cc": [
        "-std=gnu++17",
        "-fexceptions"
      ],
      "cflags!": [
        "-fno-exceptions"
      ],
      "cflags_cc!": [
        "-fno-exceptions"
      ],
      "libraries": [
        "-lseccomp"
      ]
    },
    {
      "target_name": "cellblock-init",
      "type": "executable",
      "sources": [
        "src/init-main.c",
        "src/init-job.c",
        "src/init-payload.c",
        "src/init-locks.c",
        "src/init-sysinfo.c"
      ],
      "cflags": [
        "-Wall",
        "-Wextra",
        "-Werror",
        "-Wswitch-enum",
        "-O2",
        "-std=gnu17",
        "-ffreestanding",
        "-fno-builtin",
        "-fno-stack-protector",
        "-fno-pie",
        "-fno-asynchronous-unwind-tables",
        "-fcf-protection=none"
      ],
      "cflags!": [
        "-pthread",
        "-fPIC"
      ],
      "ldflags": [
        "-static",
        "-nostdlib",
        "-no-pie",
        "-Wl,--build-id=none"
      ],
      "ldflags!": [
        "-pthread",
        "-rdynamic"
      ]
    }
  ]
}