"""Pure tensor helpers shared by the trainers. Each is tested against its naive loop form.

Shapes: B = rows (sequences), T = token positions, V = vocabulary. A `mask` is a bool (or
0/1) tensor of the same shape as the values it selects; masked-out positions never
influence a result.
"""

from __future__ import annotations

import torch


def token_logprobs(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """log p(tokens[b, t]) under softmax(logits[b, t]): [B, T, V], [B, T] -> [B, T].

    Computed in float32 whatever the logits' dtype.
    """
    logp = torch.log_softmax(logits.float(), dim=-1)  # [B, T, V]
    return logp.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)  # [B, T]


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of `values` where `mask` is set (a scalar); 0 when the mask is empty."""
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp(min=1.0)


def masked_var(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Population variance of `values` where `mask` is set (a scalar); 0 when empty."""
    mean = masked_mean(values, mask)
    return masked_mean((values - mean) ** 2, mask)


def masked_whiten(
    values: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True, eps: float = 1e-8
) -> torch.Tensor:
    """(values - mean) / sqrt(var + eps) with mean and variance over the mask; 0 off the mask.

    With `shift_mean=False` the mean is added back (only the scale changes).
    """
    mean, var = masked_mean(values, mask), masked_var(values, mask)
    whitened = (values - mean) * torch.rsqrt(var + eps)
    if not shift_mean:
        whitened = whitened + mean
    return torch.where(mask.bool(), whitened, torch.zeros_like(whitened))


def masked_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    mask: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalized advantage estimation over the masked-in positions of each row.

    rewards, values, mask: [B, T] -> (advantages, returns): [B, T], both 0 off the mask.

    Masked-out positions are skipped as if absent: the recursion runs over the kept
    positions of a row in order, the value after a row's last kept position is 0 (the
    episode ends), and rewards and values at masked-out positions are ignored (put rewards
    on kept positions). For kept positions t < t' (t' the next kept one):
    delta_t = r_t + gamma * V_t' - V_t, A_t = delta_t + gamma * lam * A_t', return_t = A_t + V_t.
    """
    keep = mask.bool()  # [B, T]
    advantages = torch.zeros_like(values)  # [B, T]
    next_value = torch.zeros_like(values[:, 0])  # [B]
    next_adv = torch.zeros_like(values[:, 0])  # [B]
    for t in reversed(range(values.shape[1])):
        delta = rewards[:, t] + gamma * next_value - values[:, t]  # [B]
        adv = delta + gamma * lam * next_adv  # [B]
        advantages[:, t] = torch.where(keep[:, t], adv, torch.zeros_like(adv))
        next_adv = torch.where(keep[:, t], adv, next_adv)  # [B]
        next_value = torch.where(keep[:, t], values[:, t], next_value)  # [B]
    returns = torch.where(keep, advantages + values, torch.zeros_like(values))  # [B, T]
    return advantages, returns


def position_ids(attention_mask: torch.Tensor) -> torch.Tensor:
    """Positions that skip left padding: [B, L] -> [B, L], 0 at and before the first token."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
