"""hiper/ALFWorld-v0: the real ALFWorld games on the TextWorld engine, with PDDL milestones and expert plans.

Modules: `games` (splits, task types, data location), `engine` (the TextWorld engine with ALFWorld's wrappers),
`engine_process` (the engine in a contained, recycled child process), `world` (the state read from PDDL facts),
`milestones`, `subgoals` (the free-text subgoal judge), `env` (ALFWorldEnv) and `expert` (plan-following expert,
`expert_trajectories` for SFT). Importing this package does not import textworld; `env` needs the `alfworld` extra.
"""

from hiper_gym.alfworld.expert import ExpertStep, ExpertTrajectory, PlanExpert, expert_trajectories
from hiper_gym.alfworld.games import SPLITS, TASK_TYPES, GameIndex, GameRecord, load_games

__all__ = [
    "SPLITS",
    "TASK_TYPES",
    "ExpertStep",
    "ExpertTrajectory",
    "GameIndex",
    "GameRecord",
    "PlanExpert",
    "expert_trajectories",
    "load_games",
]
