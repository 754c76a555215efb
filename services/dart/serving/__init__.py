"""Inference servers (generator, scorer) and their client.

The generator samples rewrites from the mapper; the scorer returns the target's per-token
log-likelihood of given completions. Contracts: protos/dart/v1/inference.proto. Layers, each
importing only those below it:

    client.py                   what the learner and the synthesis job call
    server.py, servicers.py     gRPC + health + reflection, SIGTERM drain, ready file
    metrics.py                  Prometheus /metrics and /healthz on their own HTTP port
    backends/ (hf, vllm)        engines behind GeneratorBackend / ScorerBackend
    batching.py, chat.py, requests.py, packing.py   plain helpers

Only client.py, packing.py and requests.py load without torch.
"""
