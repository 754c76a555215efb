"""Generated gRPC stubs; see dart.serving.protogen."""
