"""A small hierarchical MDP with a tabular softmax plan-execute policy, solved exactly by dynamic programming.

States 0..3 on a chain (3 is the goal and terminal), actions left/right (succeed w.p. 0.8), two subgoals, a
switch decision KEEP/SWITCH from turn 1 on. Each step costs 0.1, reaching the goal pays 1, and any step ends the
episode w.p. P_END. Values (docs/design.md §3 names): V_low(s, g) after committing to g at s, V_high(s) = E_g V_low(s, g)
at a segment start, U(s, g_prev) = V_term before the switch decision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

S, A, G, GOAL, P_END, STEP_COST = 4, 2, 2, 3, 0.15, 0.1
KEEP, SWITCH = 0, 1
N_LO, N_HI, N_SW = S * G * A, S * G, S * G * 2
N_PARAMS = N_LO + N_HI + N_SW


def transition() -> np.ndarray:
    """P[s, a, s']."""
    P = np.zeros((S, A, S))
    for s in range(S):
        for a, move in ((0, -1), (1, 1)):
            P[s, a, min(max(s + move, 0), S - 1)] += 0.8
            P[s, a, s] += 0.2
    return P


def random_params(seed: int) -> torch.Tensor:
    """Random policy logits, flattened [lo | hi | sw]."""
    return torch.tensor(np.random.default_rng(seed).normal(0, 1.0, N_PARAMS))


def policies(theta: torch.Tensor):
    """pi_lo[s, g, a], pi_hi[s, g], pi_sw[s, g_prev, q] as softmaxes of the logits."""
    lo = theta[:N_LO].view(S, G, A).softmax(-1)
    hi = theta[N_LO : N_LO + N_HI].view(S, G).softmax(-1)
    sw = theta[N_LO + N_HI :].view(S, G, 2).softmax(-1)
    return lo, hi, sw


@dataclass
class Values:
    """Exact values and action values of the policy."""

    v_low: torch.Tensor  # [S, G]
    v_high: torch.Tensor  # [S]
    u: torch.Tensor  # [S, G]: V_term(s, g_prev)
    q_low: torch.Tensor  # [S, G, A]


def solve(theta: torch.Tensor, gamma: float) -> Values:
    """Exact values by solving the linear Bellman system (differentiable in theta)."""
    lo, hi, sw = policies(theta)
    P = torch.tensor(transition(), dtype=theta.dtype)
    alive = torch.ones(S, dtype=theta.dtype)
    alive[GOAL] = 0.0
    reward = -STEP_COST + P[:, :, GOAL]  # expected reward r(s, a)
    # U(s', g) = sw_K V_low(s', g) + sw_S sum_g' hi(g'|s') V_low(s', g'), linear in x = V_low.flatten().
    eye_g = torch.eye(G, dtype=theta.dtype)
    M = torch.zeros(S, G, S, G, dtype=theta.dtype)
    for s in range(S):
        M[s, :, s, :] = sw[s, :, KEEP, None] * eye_g + sw[s, :, SWITCH, None] * hi[s][None, :]
    # Q_low(s, g, a) = r(s, a) + gamma (1 - P_END) sum_s' P(s'|s,a) alive(s') U(s', g)
    cont = gamma * (1 - P_END) * P * alive[None, None, :]  # [S, A, S']
    C = torch.einsum("sap,pgqh->sgaqh", cont, M)  # Q_low = r + C x
    B = torch.einsum("sga,sgaqh->sgqh", lo, C).reshape(S * G, S * G)
    c = torch.einsum("sga,sa->sg", lo, reward).reshape(S * G)
    x = torch.linalg.solve(torch.eye(S * G, dtype=theta.dtype) - B, c)
    v_low = x.view(S, G)
    v_high = (hi * v_low).sum(-1)
    u = sw[:, :, KEEP] * v_low + sw[:, :, SWITCH] * v_high[:, None]
    q_low = reward[:, None, :] + torch.einsum("sgaqh,qh->sga", C, v_low)
    return Values(v_low=v_low, v_high=v_high, u=u, q_low=q_low)


def sample_episodes(theta: torch.Tensor, n: int, seed: int, max_turns: int = 100) -> dict[str, np.ndarray]:
    """Play n episodes from state 0; per turn: traj, t, s, g_prev, q (segment start), g, a, r, done."""
    lo, hi, sw = (p.detach().numpy() for p in policies(theta))
    P = transition()
    rng = np.random.default_rng(seed)
    rows = []
    for ep in range(n):
        s, g = 0, -1
        for t in range(max_turns):
            q = SWITCH if t == 0 else int(rng.random() < sw[s, g, SWITCH])
            g_prev = g
            if q == SWITCH:
                g = int(rng.random() >= hi[s, 0])
            a = int(rng.random() >= lo[s, g, 0])
            s_next = int(rng.choice(S, p=P[s, a]))
            r = -STEP_COST + (1.0 if s_next == GOAL else 0.0)
            done = s_next == GOAL or rng.random() < P_END
            rows.append((ep, t, s, g_prev, q, g, a, r, done))
            s = s_next
            if done:
                break
    cols = np.array(rows, dtype=np.float64)
    names = ("traj", "t", "s", "g_prev", "q", "g", "a", "r", "done")
    out = {k: cols[:, i] for i, k in enumerate(names)}
    for k in ("traj", "t", "s", "g_prev", "q", "g", "a"):
        out[k] = out[k].astype(np.int64)
    out["done"] = out["done"].astype(bool)
    return out


def score_functions(theta: torch.Tensor, ep: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per turn, grad log pi of the action, of the subgoal (segment starts) and of the switch (turns >= 1)."""
    lo, hi, sw = (p.detach().numpy() for p in policies(theta))
    n = len(ep["t"])
    rows = np.arange(n)
    s, g, a, q, gp = ep["s"], ep["g"], ep["a"], ep["q"], ep["g_prev"]
    d_lo = np.zeros((n, N_PARAMS))
    base = N_LO * 0 + (s * G + g) * A
    d_lo[rows[:, None], base[:, None] + np.arange(A)] = -lo[s, g]
    d_lo[rows, base + a] += 1.0
    d_hi = np.zeros((n, N_PARAMS))
    start = (q == SWITCH)
    base = N_LO + s * G
    d_hi[rows[:, None], base[:, None] + np.arange(G)] = -hi[s]
    d_hi[rows, base + g] += 1.0
    d_hi[~start] = 0.0
    d_sw = np.zeros((n, N_PARAMS))
    later = ep["t"] > 0
    gp_safe = np.where(later, gp, 0)
    base = N_LO + N_HI + (s * G + gp_safe) * 2
    d_sw[rows[:, None], base[:, None] + np.arange(2)] = -sw[s, gp_safe]
    d_sw[rows, base + q] += 1.0
    d_sw[~later] = 0.0
    return d_lo, d_hi, d_sw
