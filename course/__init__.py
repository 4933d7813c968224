"""xai-course: the teaching library of the explainable-AI course (Lecture 7: LRP, Deep Taylor, PatternNet)."""

__version__ = "0.1.0"
