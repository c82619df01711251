"""Slow reference estimators written as plainly as docs/design.md §3's equations: one trajectory, one turn at a time.

Trajectories are lists of dicts with the TurnBatch fields as Python scalars, in turn order.
"""

from __future__ import annotations

import math
from collections import defaultdict


def shaped_rewards(traj, success_reward=10.0, invalid_penalty=-0.1, keep_penalty=0.0, keep_mode="normalized",
                   consistency_penalty=-0.3):
    """docs/design.md §3's shaping of one trajectory's rewards."""
    T = len(traj)
    out = []
    for t, turn in enumerate(traj):
        r = turn["reward"] if success_reward is None else success_reward * float(turn["won"])
        if not turn["valid"]:
            r += invalid_penalty
        keep = not turn["switch"]
        if keep and keep_penalty != 0.0:
            if keep_mode == "fixed":
                r += keep_penalty
            elif T > 1:
                r += keep_penalty / T
        if keep and t > 0 and turn["keep_subgoal_changed"]:
            r += consistency_penalty
        out.append(r)
    return out


def _normalize(values, mask):
    chosen = [v for v, m in zip(values, mask) if m]
    if not chosen:
        return [0.0] * len(values)
    mean = sum(chosen) / len(chosen)
    std = math.sqrt(sum((v - mean) ** 2 for v in chosen) / len(chosen))
    return [(v - mean) / (std + 1e-8) if m else 0.0 for v, m in zip(values, mask)]


def hae(trajs, shaping, gamma=1.0, lam_turn=1.0, lam_seg=0.95, bootstrap=False, switch_mode="return", normalize=True):
    """HAE per docs/design.md §3; returns flat lists over all turns of all trajectories, in order."""
    A_low, A_high, A_sw, R_low, R_high, R_sw, starts, rewards = [], [], [], [], [], [], [], []
    for traj in trajs:
        T = len(traj)
        r = shaped_rewards(traj, **shaping)
        vh = [x["v_high"] for x in traj]
        vl = [x["v_low"] for x in traj]
        vt = [x["v_term"] for x in traj]
        done = traj[-1]["done"]
        b = [0] + [t for t in range(1, T) if traj[t]["switch"]]
        segs = [(b[k], (b[k + 1] - 1) if k + 1 < len(b) else T - 1) for k in range(len(b))]
        a_low, a_sw, g_sw = [0.0] * T, [0.0] * T, [0.0] * T
        delta_h, n_k = [], []
        for k, (s, e) in enumerate(segs):
            if k + 1 < len(segs):
                boot_high, boot_low = vh[segs[k + 1][0]], vh[segs[k + 1][0]]
            elif done:
                boot_high, boot_low = 0.0, 0.0
            elif bootstrap:
                boot_high, boot_low = vh[s], vl[e]
            else:
                boot_high, boot_low = 0.0, 0.0
            adv = 0.0
            for t in range(e, s - 1, -1):
                if t == e:
                    adv = r[t] + gamma * boot_low - vl[t]
                else:
                    adv = r[t] + gamma * vl[t + 1] - vl[t] + gamma * lam_turn * adv
                a_low[t] = adv
            G = boot_high
            for t in range(e, s - 1, -1):
                G = r[t] + gamma * G
                g_sw[t] = G
            n = e - s + 1
            R = sum(gamma**j * r[s + j] for j in range(n))
            delta_h.append(R + gamma**n * boot_high - vh[s])
            n_k.append(n)
        a_high = [0.0] * T
        nxt = 0.0
        for k in range(len(segs) - 1, -1, -1):
            last = k == len(segs) - 1
            nxt = delta_h[k] + (0.0 if last else gamma ** n_k[k] * lam_seg * nxt)
            a_high[segs[k][0]] = nxt
        for t in range(T):
            if switch_mode == "return":
                a_sw[t] = g_sw[t] - vt[t]
            else:
                q = 1.0 if (t == 0 or traj[t]["switch"]) else 0.0
                a_sw[t] = (q - traj[t]["switch_prob"]) * (vh[t] - vt[t])
        is_start = [t in b for t in range(T)]
        A_low += a_low
        A_high += a_high
        A_sw += a_sw
        R_low += [a_low[t] + vl[t] for t in range(T)]
        R_high += [a_high[t] + vh[t] if is_start[t] else 0.0 for t in range(T)]
        R_sw += g_sw
        starts += is_start
        rewards += r
    carries_high = [s and x["has_subgoal"] for s, x in zip(starts, [x for tr in trajs for x in tr])]
    carries_sw = [x["has_switch"] for tr in trajs for x in tr]
    if normalize:
        A_low = _normalize(A_low, [True] * len(A_low))
        A_high = _normalize(A_high, carries_high)
        A_sw = _normalize(A_sw, carries_sw)
    else:
        A_high = [a if c else 0.0 for a, c in zip(A_high, carries_high)]
        A_sw = [a if c else 0.0 for a, c in zip(A_sw, carries_sw)]
    return dict(low=A_low, high=A_high, switch=A_sw, ret_low=R_low, ret_high=R_high, ret_term=R_sw,
                starts=starts, rewards=rewards)


def gae(trajs, shaping, gamma=1.0, lam=0.95, bootstrap=False, normalize=True, value_key="v_high"):
    """Flat GAE over turns, CleanRL-style."""
    A, R = [], []
    for traj in trajs:
        T = len(traj)
        r = shaped_rewards(traj, **shaping)
        v = [x[value_key] for x in traj]
        adv = [0.0] * T
        last = 0.0
        for t in reversed(range(T)):
            if t == T - 1:
                next_value = 0.0 if traj[t]["done"] else (v[t] if bootstrap else 0.0)
                nonterminal = 0.0
            else:
                next_value, nonterminal = v[t + 1], 1.0
            delta = r[t] + gamma * next_value - v[t]
            last = delta + gamma * lam * nonterminal * last
            adv[t] = last
        A += adv
        R += [a + x for a, x in zip(adv, v)]
    if normalize:
        A = _normalize(A, [True] * len(A))
    return dict(adv=A, ret=R)


def _std(xs):
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def grpo(trajs, shaping, std_normalize=True, eps=1e-6):
    """Episode return normalised within its group; a lone trajectory keeps its raw return."""
    returns = [sum(shaped_rewards(t, **shaping)) for t in trajs]
    by_group = defaultdict(list)
    for t, R in zip(trajs, returns):
        by_group[t[0]["group_id"]].append(R)
    out = []
    for t, R in zip(trajs, returns):
        group = by_group[t[0]["group_id"]]
        if len(group) == 1:
            a = R
        else:
            a = R - sum(group) / len(group)
            if std_normalize:
                a /= _std(group) + eps
        out += [a] * len(t)
    return out


def gigpo(trajs, shaping, gamma=0.95, weight=1.0, std_normalize=False, eps=1e-6):
    """GRPO episode advantage plus the step advantage among identical observations of the same group."""
    episode = grpo(trajs, shaping, std_normalize, eps)
    step_returns, keys = [], []
    for traj in trajs:
        r = shaped_rewards(traj, **shaping)
        G, rets = 0.0, []
        for x in reversed(r):
            G = x + gamma * G
            rets.append(G)
        step_returns += rets[::-1]
        keys += [(x["group_id"], x["obs_key"]) for x in traj]
    groups = defaultdict(list)
    for k, g in zip(keys, step_returns):
        groups[k].append(g)
    out = []
    for e, k, g in zip(episode, keys, step_returns):
        members = groups[k]
        if len(members) == 1:
            s = 0.0
        else:
            s = g - sum(members) / len(members)
            if std_normalize:
                s /= _std(members) + eps
        out.append(e + weight * s)
    return out
