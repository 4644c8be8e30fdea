// Bundled in place of @grpc/grpc-js and @grpc/proto-loader (the `build` script in package.json
// aliases them here). dockerode loads both when it starts, for BuildKit sessions only
// (`buildImage` with version "2"), which engine.ts never asks for; parsing them cost every run
// about 35 ms before its first step. Reaching into this object is a bug, and says so.
module.exports = new Proxy(
  {},
  {
    get(_target, key) {
      throw new Error(`nokmem-build bug: dockerode's BuildKit session reached for gRPC (${String(key)}), which is not bundled`);
    },
  },
);
