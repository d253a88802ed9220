"""appsplus.trainers.common: each tensor helper against its naive Python-loop form."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from appsplus.trainers.common import (  # noqa: E402
    masked_gae,
    masked_mean,
    masked_var,
    masked_whiten,
    position_ids,
    token_logprobs,
)


def random_mask(shape, p_keep: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(shape, generator=g) < p_keep
    mask[0] = False  # one row with nothing kept
    return mask


def test_token_logprobs_matches_naive():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, 7, generator=g)
    tokens = torch.randint(0, 7, (3, 5), generator=g)
    out = token_logprobs(logits, tokens)
    for b in range(3):
        for t in range(5):
            row = logits[b, t].tolist()
            log_z = math.log(sum(math.exp(x) for x in row))
            assert out[b, t].item() == pytest.approx(row[tokens[b, t]] - log_z, abs=1e-5)


def test_token_logprobs_half_precision_is_computed_in_float32():
    logits = torch.randn(2, 3, 11).to(torch.bfloat16)
    tokens = torch.zeros(2, 3, dtype=torch.long)
    assert token_logprobs(logits, tokens).dtype == torch.float32


@pytest.mark.parametrize("seed", range(5))
def test_masked_mean_var_whiten_match_naive(seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(4, 9, generator=g) * 3 + 1
    mask = random_mask((4, 9), 0.6, seed)
    kept = [x[b, t].item() for b in range(4) for t in range(9) if mask[b, t]]
    mean = sum(kept) / len(kept)
    var = sum((v - mean) ** 2 for v in kept) / len(kept)
    assert masked_mean(x, mask).item() == pytest.approx(mean, abs=1e-5)
    assert masked_var(x, mask).item() == pytest.approx(var, abs=1e-4)
    white = masked_whiten(x, mask)
    shifted = masked_whiten(x, mask, shift_mean=False)
    for b in range(4):
        for t in range(9):
            if mask[b, t]:
                expected = (x[b, t].item() - mean) / math.sqrt(var + 1e-8)
                assert white[b, t].item() == pytest.approx(expected, abs=1e-4)
                assert shifted[b, t].item() == pytest.approx(expected + mean, abs=1e-4)
            else:
                assert white[b, t].item() == 0.0 and shifted[b, t].item() == 0.0
    kept_white = torch.stack([white[b, t] for b in range(4) for t in range(9) if mask[b, t]])
    assert kept_white.mean().item() == pytest.approx(0.0, abs=1e-5)


def test_masked_mean_of_an_empty_mask_is_zero():
    x = torch.ones(2, 3, requires_grad=True)
    out = masked_mean(x, torch.zeros(2, 3, dtype=torch.bool))
    assert out.item() == 0.0
    out.backward()  # still differentiable (zero gradient), as DDP needs
    assert x.grad.abs().sum().item() == 0.0


def naive_gae(rewards, values, mask, gamma, lam):
    """The recursion written out over the kept positions of each row."""
    rows, cols = len(rewards), len(rewards[0])
    adv = [[0.0] * cols for _ in range(rows)]
    ret = [[0.0] * cols for _ in range(rows)]
    for b in range(rows):
        kept = [t for t in range(cols) if mask[b][t]]
        next_value, next_adv = 0.0, 0.0
        for t in reversed(kept):
            delta = rewards[b][t] + gamma * next_value - values[b][t]
            next_adv = delta + gamma * lam * next_adv
            adv[b][t] = next_adv
            ret[b][t] = next_adv + values[b][t]
            next_value = values[b][t]
    return adv, ret


@pytest.mark.parametrize(("gamma", "lam"), [(1.0, 0.95), (0.9, 1.0), (0.99, 0.0), (1.0, 1.0)])
@pytest.mark.parametrize("seed", range(3))
def test_masked_gae_matches_naive(gamma, lam, seed):
    g = torch.Generator().manual_seed(seed)
    rewards = torch.randn(5, 11, generator=g)
    values = torch.randn(5, 11, generator=g)
    mask = random_mask((5, 11), 0.5, seed)
    adv, ret = masked_gae(rewards, values, mask, gamma, lam)
    n_adv, n_ret = naive_gae(rewards.tolist(), values.tolist(), mask.tolist(), gamma, lam)
    assert torch.allclose(adv, torch.tensor(n_adv), atol=1e-5)
    assert torch.allclose(ret, torch.tensor(n_ret), atol=1e-5)


def test_masked_gae_with_a_full_mask_is_ordinary_gae():
    # gamma = lam = 1 and a terminal reward only: every advantage is reward - value
    rewards = torch.tensor([[0.0, 0.0, 1.0]])
    values = torch.tensor([[0.2, 0.5, 0.1]])
    adv, ret = masked_gae(rewards, values, torch.ones(1, 3, dtype=torch.bool), 1.0, 1.0)
    assert torch.allclose(adv, torch.tensor([[0.8, 0.5, 0.9]]))
    assert torch.allclose(ret, torch.ones(1, 3))


def test_masked_positions_are_skipped_not_zero_valued():
    # the masked middle token's value must not bootstrap the first token
    rewards = torch.tensor([[0.0, 5.0, 1.0]])  # the 5.0 sits on a masked position: ignored
    values = torch.tensor([[0.0, 100.0, 0.5]])
    mask = torch.tensor([[True, False, True]])
    adv, _ = masked_gae(rewards, values, mask, 1.0, 1.0)
    assert adv[0].tolist() == pytest.approx([1.0, 0.0, 0.5])


def test_position_ids_match_naive():
    mask = torch.tensor([[0, 0, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1]])
    expected = [[max(sum(row[: t + 1]) - 1, 0) for t in range(len(row))] for row in mask.tolist()]
    assert position_ids(mask).tolist() == expected
