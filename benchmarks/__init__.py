"""Side-by-side speed of our MAML and ProtoNet against the peer libraries, and scaling.

A developer tool beside the library: nothing in core/, the app or the pages imports it.

    python -m benchmarks --json                  # ours vs learn2learn 0.2.0 and easyfsl 1.5.0
    python -m benchmarks scaling --out docs      # time and peak memory vs steps, ways, shots
    python -m benchmarks photo-speed --json      # time to embed photos (photo_speed)
    python -m benchmarks projections --out F     # PCA, t-SNE, UMAP times (projections)
    python -m benchmarks live-fps --out F.json   # webcam frames classified per second (live_fps)

The comparison runs, in one process and alternating ours / peer, on identical weights,
inputs and seeds. Every row's step is checked in float64 first (loss and every gradient
tensor, same weights, the first tasks of the timed batch) and the step timed is that same
callable (benchmarks.rows.measure). A row is compared with a peer only when the peer runs the
same computation; where ours runs another formulation, it is its own row, checked against a
hand-written textbook reference (benchmarks.reference) and timed alone, with no speed-up:
  - MAML meta-training step (Conv-4, 1x28x28, 5-way 1-shot, 15 queries, 32 tasks), ours
    core.maml.meta_loss + backward + Adam, batch norm on stored statistics. With a zero head
    start (1 inner step second order, 5 second order, 1 first order) against learn2learn's
    clone()/adapt() loop; with the shipped omniglot-maml card's inner loop (its head start,
    steps and per-tensor rates), ours only: learn2learn has one inner rate and no
    class-centre head start.
  - ProtoNet training episode (60-way 5-shot 5 queries): easyfsl's computation (support and
    queries in two training-mode passes, each with its batch statistics; Euclidean distance)
    by ours and by easyfsl's PrototypicalNetworks; then our training formulation (one pass
    over both, so one set of batch statistics, patch-moment batch norm, squared distance),
    ours only, with easyfsl's time beside it labelled as a different computation.
  - adapt + predict latency of each shipped model through core.load_model(...).adapt(...)
    .predict_proba(...): 5-way 5-shot, 10 queries, MAML with 10 inner steps; with new images
    at every run (uncached photo features) and with the same images again (cached).

The peers get the textbook Conv-4 (conv, batch norm, ReLU, max-pool modules, as in their
examples) with our weights; ours is core.networks.Conv4. The peers are not project
requirements; without them the peer rows time our side only (peer fields null) and the
reference checks still run. Install them:

    bash benchmarks/install-peers.sh .venv/bin/python

Modules: common (config, seeded weights, timing, machine), tasks (random inputs), peers
(installed?, textbook Conv-4, the float64 check), reference (hand-written textbook steps),
rows (one row: check, then time the same step), maml (ours and learn2learn's), protonet
(ours and easyfsl's), latency, compare (the side-by-side run), scaling (points and plot),
photo_speed; __main__ dispatches the one command.
"""
