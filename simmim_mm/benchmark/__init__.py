"""Measurement behind tools/benchmark.py: training-step speed, memory and FLOP utilization
against mmpretrain's SimMIM, and data-pipeline throughput."""
