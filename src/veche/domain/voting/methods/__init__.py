"""Counting methods: each takes a spec, plain ballots and the tie seed, returns a MethodCount."""
