"""hiper/BabyAI-v0: BabyAI's levels (Farama minigrid) in text, with the mission's subgoals as milestones."""

from hiper_gym.babyai.levels import level_names

__all__ = ["level_names"]
