"""Checks the PyTorch column of docs/conventions.md against PyTorch itself (written for 1.13, Debian's
python3-torch: `apt-get install -y python3-torch`, then `python3 tools/check-conventions.py` with the
python3 that has it, e.g. Debian's own).

Each check computes a PyTorch result and the closed form the table states for it, prints one line, and
the script exits 1 if any of them disagrees. It needs no data and no network, and runs in a few seconds.
"""
import math
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)  # so that the comparisons are exact up to float64 rounding
failures = []


def check(name: str, ok: bool, detail: str = "") -> None:
    print(f"{'ok  ' if ok else 'FAIL'}  {name}{': ' + detail if detail else ''}")
    if not ok:
        failures.append(name)


def close(a, b, tol=1e-12) -> bool:
    return torch.allclose(torch.as_tensor(a), torch.as_tensor(b), rtol=tol, atol=tol)


N, M = 5, 3
s, t = torch.rand(N, M), torch.rand(N, M)

# --- losses ---------------------------------------------------------------------------------------------
mse = torch.nn.MSELoss()(s, t)
check("MSELoss = mean over all N·M entries of (s - t)², no ½", close(mse, ((s - t) ** 2).mean()))
lib_sq = 0.5 * ((s - t) ** 2).sum(1).mean()  # the library: mean over samples of ½ Σ_i (t_i - s_i)²
check("library squared error = (M/2) · MSELoss", close(lib_sq, M / 2 * mse), f"M = {M}")

logits, labels = torch.randn(N, M), torch.randint(0, M, (N,))
ce = torch.nn.CrossEntropyLoss()(logits, labels)
check("CrossEntropyLoss = mean over samples of -log softmax(z)[label]",
      close(ce, -F.log_softmax(logits, 1)[torch.arange(N), labels].mean()))
far = torch.tensor([[0.0, 1000.0]])
ce_far = torch.nn.CrossEntropyLoss()(far, torch.tensor([0]))
check("CrossEntropyLoss takes logits and clamps nothing: a 1000-logit gap costs 1000",
      close(ce_far, torch.tensor(1000.0)), f"{ce_far.item():.1f}")

p, y = torch.rand(N, M) * 0.98 + 0.01, torch.randint(0, 2, (N, M)).double()
bce = torch.nn.BCELoss()(p, y)
per_entry = -(y * p.log() + (1 - y) * (1 - p).log())
check("BCELoss = mean over all N·M entries", close(bce, per_entry.mean()))
bce0 = torch.nn.BCELoss()(torch.tensor([0.0]), torch.tensor([1.0]))
check("BCELoss clamps log at -100: p = 0 for a target 1 costs 100", close(bce0, torch.tensor(100.0)), f"{bce0.item()}")

# --- batch and layer normalization -----------------------------------------------------------------------
bn = torch.nn.BatchNorm1d(M)
check("BatchNorm1d defaults: momentum 0.1, eps 1e-5", bn.momentum == 0.1 and bn.eps == 1e-5, f"{bn.momentum}, {bn.eps}")
x = torch.randn(8, M) * 2 + 1
out = bn(x)  # training mode: one step
mu, var_b, var_u = x.mean(0), x.var(0, unbiased=False), x.var(0, unbiased=True)
check("BatchNorm1d normalizes with the biased batch variance (1/b)", close(out, (x - mu) / torch.sqrt(var_b + 1e-5), 1e-10))
check("BatchNorm1d running_mean ← (1 - 0.1) running_mean + 0.1 μ_B (m = 1 - 0.1 = 0.9 in the library)",
      close(bn.running_mean, 0.9 * torch.zeros(M) + 0.1 * mu))
check("BatchNorm1d running_var ← 0.9 running_var + 0.1 · UNBIASED batch variance (1/(b-1))",
      close(bn.running_var, 0.9 * torch.ones(M) + 0.1 * var_u))
check("... and not the biased one", not close(bn.running_var, 0.9 * torch.ones(M) + 0.1 * var_b))
ln = torch.nn.LayerNorm(M)
check("LayerNorm default eps 1e-5", ln.eps == 1e-5)

# --- dense layer: layout and initialization --------------------------------------------------------------
fan_in, fan_out = 400, 300
lin = torch.nn.Linear(fan_in, fan_out)
check("nn.Linear weight is [out, in]", tuple(lin.weight.shape) == (fan_out, fan_in), str(tuple(lin.weight.shape)))
bound = 1 / math.sqrt(fan_in)
for what, w in (("weight", lin.weight), ("bias", lin.bias)):
    top = w.abs().max().item()
    check(f"nn.Linear {what} ~ U(±1/√fan_in) (kaiming_uniform_(a=√5) for the weight)",
          top <= bound and top > 0.98 * bound, f"max |{what}| = {top:.5f}, 1/√fan_in = {bound:.5f}")


# --- optimizers --------------------------------------------------------------------------------------------
def quad_grad(theta):
    """∇ of J(θ) = ½ θᵀ A θ - bᵀ θ, the test surface of the optimizer checks."""
    A = torch.tensor([[3.0, 0.5], [0.5, 1.0]])
    b = torch.tensor([1.0, -2.0])
    return A @ theta - b


def run_torch(opt_ctor, steps=5):
    theta = torch.tensor([1.5, -0.5], requires_grad=True)
    opt = opt_ctor([theta])
    for _ in range(steps):
        opt.zero_grad()
        theta.grad = quad_grad(theta.detach())
        opt.step()
    return theta.detach()


def run_lib(update, steps=5):
    theta, state = torch.tensor([1.5, -0.5]), {}
    for k in range(1, steps + 1):
        theta = update(theta, state, k)
    return theta


lr, nu = 0.1, 0.9
sgd_nesterov = run_torch(lambda p: torch.optim.SGD(p, lr=lr, momentum=nu, nesterov=True))


def nesterov_reformulated(theta, st, k):  # the library's "reformulated" form (tf.train's useNesterov)
    v = st.get("v", torch.zeros(2))
    g = quad_grad(theta)
    st["v"] = nu * v - lr * g
    return theta + nu * st["v"] - lr * g


def nesterov_lookahead(theta, st, k):  # the lecture's form: the gradient at θ + νv
    v = st.get("v", torch.zeros(2))
    g = quad_grad(theta + nu * v)
    st["v"] = nu * v - lr * g
    return theta + st["v"]


check("SGD(nesterov=True) = the reformulated Nesterov (gradient at the current θ), constant ε",
      close(sgd_nesterov, run_lib(nesterov_reformulated)))
check("... which is not the lecture's look-ahead θ (shifted by νv)", not close(sgd_nesterov, run_lib(nesterov_lookahead)))

rms = torch.optim.RMSprop([torch.zeros(1, requires_grad=True)])
check("RMSprop defaults: alpha (ρ) 0.99, eps 1e-8", rms.defaults["alpha"] == 0.99 and rms.defaults["eps"] == 1e-8)
delta = 0.05  # a large δ, so that where it enters shows


def rmsprop(placement):
    def update(theta, st, k):
        g = quad_grad(theta)
        st["r"] = 0.9 * st.get("r", torch.zeros(2)) + 0.1 * g * g
        den = delta + st["r"].sqrt() if placement == "outside" else (st["r"] + delta).sqrt()
        return theta - lr * g / den
    return update


torch_rms = run_torch(lambda p: torch.optim.RMSprop(p, lr=lr, alpha=0.9, eps=delta))
check("RMSprop puts δ outside the root: ε g/(√r + δ)", close(torch_rms, run_lib(rmsprop("outside"))))
check("... not inside, ε g/√(r + δ) (the lecture's and tf.train's)", not close(torch_rms, run_lib(rmsprop("inside"))))

def rmsprop_momentum(theta, st, k):  # classical momentum on the scaled gradient, ε applied to the buffer
    g = quad_grad(theta)
    st["r"] = 0.9 * st.get("r", torch.zeros(2)) + 0.1 * g * g
    st["buf"] = nu * st.get("buf", torch.zeros(2)) + g / (st["r"].sqrt() + delta)
    return theta - lr * st["buf"]


torch_rms_mom = run_torch(lambda p: torch.optim.RMSprop(p, lr=lr, alpha=0.9, eps=delta, momentum=nu))
check("RMSprop(momentum=ν) is classical momentum: buf ← νbuf + g/(√r + δ), θ ← θ - ε buf",
      close(torch_rms_mom, run_lib(rmsprop_momentum)))

adam = torch.optim.Adam([torch.zeros(1, requires_grad=True)])
check("Adam defaults: betas (0.9, 0.999), eps 1e-8", adam.defaults["betas"] == (0.9, 0.999) and adam.defaults["eps"] == 1e-8)


def adam_update(placement):
    def update(theta, st, k):
        g = quad_grad(theta)
        st["s"] = 0.9 * st.get("s", torch.zeros(2)) + 0.1 * g
        st["r"] = 0.999 * st.get("r", torch.zeros(2)) + 0.001 * g * g
        s_hat, r_hat = st["s"] / (1 - 0.9 ** k), st["r"] / (1 - 0.999 ** k)
        den = r_hat.sqrt() + delta if placement == "outside" else (r_hat + delta).sqrt()
        return theta - lr * s_hat / den
    return update


torch_adam = run_torch(lambda p: torch.optim.Adam(p, lr=lr, eps=delta))
check("Adam puts δ outside the root: ε ŝ/(√r̂ + δ) (as tf.train)", close(torch_adam, run_lib(adam_update("outside"))))
check("... not inside, ε ŝ/√(r̂ + δ) (the lecture's)", not close(torch_adam, run_lib(adam_update("inside"))))

ada = torch.optim.Adagrad([torch.zeros(1, requires_grad=True)])
check("Adagrad defaults: eps 1e-10, initial accumulator 0",
      ada.defaults["eps"] == 1e-10 and ada.defaults["initial_accumulator_value"] == 0)


def adagrad_update(theta, st, k):  # the lecture's AdaGrad: ε g/(δ + √r), r from 0
    g = quad_grad(theta)
    st["r"] = st.get("r", torch.zeros(2)) + g * g
    return theta - lr * g / (delta + st["r"].sqrt())


torch_ada = run_torch(lambda p: torch.optim.Adagrad(p, lr=lr, eps=delta))
check("Adagrad puts δ outside the root, ε g/(δ + √r), as the lecture (tf.train: inside, r from 0.1)",
      close(torch_ada, run_lib(adagrad_update)))

# --- clipping by the global norm -------------------------------------------------------------------------
params = [torch.zeros(3, requires_grad=True), torch.zeros(2, requires_grad=True)]
params[0].grad, params[1].grad = torch.tensor([3.0, 0.0, 4.0]), torch.tensor([0.0, 12.0])  # ‖g‖ = 13
c = 1.0
norm = torch.nn.utils.clip_grad_norm_(params, c)
factor = params[1].grad[1].item() / 12.0
check("clip_grad_norm_ returns ‖g‖ and scales by c/(‖g‖ + 1e-6), not c/‖g‖",
      close(norm, torch.tensor(13.0)) and abs(factor - c / (13.0 + 1e-6)) < 1e-15, f"factor {factor!r} vs c/‖g‖ = {c / 13.0!r}")
params[0].grad, params[1].grad = torch.tensor([0.3, 0.0, 0.4]), torch.tensor([0.0, 0.0])  # ‖g‖ = 0.5 < c
torch.nn.utils.clip_grad_norm_(params, c)
check("clip_grad_norm_ leaves a gradient with ‖g‖ ≤ c alone (the factor is clamped to 1)",
      close(params[0].grad, torch.tensor([0.3, 0.0, 0.4])))

# --- max: where a tie's gradient goes ---------------------------------------------------------------------
z = torch.tensor([[1.0, 1.0]], requires_grad=True)
z.max(dim=1).values.sum().backward()
check("max(dim) sends a tie's gradient to ONE element, the first (maxout's routing)",
      z.grad.tolist() == [[1.0, 0.0]], str(z.grad.tolist()))

print(f"PyTorch {torch.__version__}: {len(failures)} of the checks failed" if failures else f"PyTorch {torch.__version__}: all checks agree")
sys.exit(1 if failures else 0)
