"""Measurement behind tools/benchmark.py: training-step speed, memory and FLOP utilization
against mmpretrain's SimMIM, data-pipeline throughput, a distillation's teacher and student at
inference, and the reports that gather them (report.py)."""
