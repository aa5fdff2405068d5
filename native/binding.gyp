{
  "targets": [
    {
      "target_name": "scope_native",
      "sources": [
        "src/addon.cc",
        "src/fileops.cc",
        "src/own_thread.cc",
        "src/mq.cc",
        "src/lxc-command.cc",
        "src/namespaces.c"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS"
      ],
      "cflags": [
        "-Wall",
        "-Wextra",
        "-Wno-unused-parameter"
      ],
      "cflags_cc!": [
        "-fno-exceptions",
        "-fno-rtti"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-fexceptions"
      ],
      "libraries": [
        "-lrt"
      ]
    },
    {
      "target_name": "scope-exec",
      "type": "executable",
      "sources": [
        "src/exec-helper.c",
        "src/exec-args.c",
        "src/exec-tty.c",
        "src/namespaces.c",
        "src/confine-read.c",
        "src/confine-apply.c",
        "src/seccomp-profile.c",
        "src/seccomp-eval.c",
        "src/exec-check.c"
      ],
      "cflags": [
        "-Wall",
        "-Wextra",
        "-std=gnu11",
        "-O2"
      ],
      "ldflags": [
        "-static"
      ],
      "libraries": [
        "-lseccomp"
      ]
    },
    {
      "target_name": "scope-fs",
      "type": "executable",
      "sources": [
        "src/fs-helper.cc",
        "src/fileops.cc",
        "src/mq.cc",
        "src/namespaces.c"
      ],
      "cflags": [
        "-Wall",
        "-Wextra",
        "-O2"
      ],
      "cflags_cc!": [
        "-fno-exceptions",
        "-fno-rtti"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-fexceptions"
      ],
      "ldflags": [
        "-static"
      ]
    },
    {
      "target_name": "scope-plugin-launch",
      "type": "executable",
      "sources": [
        "src/plugin-launch.c"
      ],
      "cflags": [
        "-Wall",
        "-Wextra",
        "-std=gnu11",
        "-O2"
      ]
    },
    {
      "target_name": "scope-probe",
      "type": "executable",
      "sources": [
        "src/probe.c",
        "src/probe-proc.c",
        "src/probe-control.c"
      ],
      "cflags": [
        "-Wall",
        "-Wextra",
        "-std=gnu11",
        "-O2"
      ],
      "ldflags": [
        "-static"
      ],
      "libraries": [
        "-lrt"
      ]
    },
    {
      "target_name": "scope-trace-probe",
      "type": "executable",
      "sources": [
        "src/trace-probe.c"
      ],
      "cflags": [
        "-Wall",
        "-Wextra",
        "-std=gnu11",
        "-O2"
      ],
      "ldflags": [
        "-static"
      ]
    }
  ]
}
