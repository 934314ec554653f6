"""`cascade eval` and `cascade check` against NumPy: a user's tensors in, outputs out,
compared with attention written in NumPy (an independent reference); `check` against the
user's outputs and against another cascade; the file formats NumPy writes and the errors a
user meets. Usage: eval_numpy.py CASCADE_BINARY CASCADES_DIR WORK_DIR"""
import io
import os
import shutil
import subprocess
import sys

import numpy as np

cascade, cascades, work = sys.argv[1], sys.argv[2], sys.argv[3]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what)


def run(*args, code=0, command="eval"):
    p = subprocess.run([cascade, command, *args], capture_output=True, text=True)
    if p.returncode != code:
        failures.append(f"exit {p.returncode} (want {code}) for {args}: {p.stdout}{p.stderr}")
        print("FAIL:", failures[-1])
    return p.stdout + p.stderr


def path(name):
    return os.path.join(work, name)


def softmax_attention(q, k, v):  # Q [E, P], K [E, M], V [F, M] -> AV [F, P]
    s = (k.T @ q) / np.sqrt(q.shape[0])
    a = np.exp(s - s.max(axis=0))
    return v @ (a / a.sum(axis=0)), s


rng = np.random.default_rng(2026)
E, P, M, F = 6, 9, 21, 4
q, k, v = rng.standard_normal((E, P)), rng.standard_normal((E, M)), rng.standard_normal((F, M))
for name, x in (("Q", q), ("K", k), ("V", v)):
    np.save(path(name + ".npy"), x)
softmax = os.path.join(cascades, "softmax-3pass.yaml")
one_pass = os.path.join(cascades, "softmax-1pass.yaml")

# 1. .npy inputs, shapes taken from the files, fp64: equals NumPy to rounding.
run(softmax, "--input", "Q=" + path("Q.npy"), "--input", "K=" + path("K.npy"),
    "--input", "V=" + path("V.npy"), "--format", "fp64", "--keep-intermediates",
    "--output", path("out"))
want, scores = softmax_attention(q, k, v)
got = np.load(path("out/AV.npy"))
check(got.shape == (F, P), f"AV shape {got.shape}")
check(np.abs(got - want).max() < 1e-12, f"AV vs NumPy {np.abs(got - want).max()}")
check(np.abs(np.load(path("out/QK.npy")) - scores).max() < 1e-12, "intermediate QK vs NumPy")
buffer = io.BytesIO()
np.save(buffer, got)
check(buffer.getvalue() == open(path("out/AV.npy"), "rb").read(), "AV.npy is what np.save writes")

# 2. One compressed .npz; K in Fortran order, V big-endian, Q float16; the 1-pass cascade
#    with a partial last tile (M0 = 8 does not divide 21); output as .npz.
q16 = q.astype(np.float16)
np.savez_compressed(path("in.npz"), Q=q16, K=np.asfortranarray(k), V=v.astype(">f8"))
run(one_pass, "--input", path("in.npz"), "--set", "M0=8", "--format", "fp64",
    "--output", path("out.npz"))
want16, _ = softmax_attention(q16.astype(np.float64), k, v)
with np.load(path("out.npz")) as z:
    check(list(z.keys()) == ["AV"], f"npz entries {list(z.keys())}")
    check(np.abs(z["AV"] - want16).max() < 1e-12, f"1-pass from npz vs NumPy {np.abs(z['AV'] - want16).max()}")

# 3. fp32 storage: within fp32 rounding of NumPy's float64 result.
run(softmax, "--input", path("in.npz"), "--output", path("out32"))
rel = np.abs(np.load(path("out32/AV.npy")) - want16).max() / np.abs(want16).max()
check(0 < rel < 1e-5, f"fp32 relative error {rel}")

# 4. No inputs: drawn from the seed, written with the outputs, reproducible to the byte.
run(softmax, "--set", "P=5,M=11,E=3,F=2", "--output", path("drawn1"))
run(softmax, "--set", "P=5,M=11,E=3,F=2", "--output", path("drawn2"))
for name in ("Q", "K", "V", "AV"):
    a, b = open(path(f"drawn1/{name}.npy"), "rb").read(), open(path(f"drawn2/{name}.npy"), "rb").read()
    check(a == b, f"drawn {name} reproducible")
dq, dk, dv = (np.load(path(f"drawn1/{n}.npy")) for n in "QKV")
want_drawn, _ = softmax_attention(dq, dk, dv)
rel = np.abs(np.load(path("drawn1/AV.npy")) - want_drawn).max() / np.abs(want_drawn).max()
check(rel < 1e-5, f"drawn inputs: AV vs NumPy {rel}")

# 5. Errors: exit 2 with a message naming the problem; nothing written.
np.save(path("K3d.npy"), rng.standard_normal((E, M, 1)))
np.save(path("Q7.npy"), rng.standard_normal((E + 1, P)))
np.save(path("Kint.npy"), np.arange(E * M, dtype=np.int32).reshape(E, M))
cases = [
    (["--input", "Q=" + path("Q.npy"), "--set", "P=8"], "Q has shape (6, 9) but Q[E, P] is (6, 8)"),
    (["--input", "X=" + path("Q.npy")], "'X' is not an input of cascade softmax-3pass"),
    (["--input", "K=" + path("Kint.npy")], "dtype '<i4' is not a float dtype"),
    (["--input", "K=" + path("K3d.npy")], "K has 3 dimensions (6, 21, 1), the cascade's K[E, M] has 2"),
    (["--input", "K=" + path("K.npy"), "--input", "Q=" + path("Q7.npy")], "rank E is 7 in Q but 6 in K"),
    (["--input", "Q=" + path("missing.npy")], "missing.npy"),
    (["--input", "Q=" + path("Q.npy"), "--input", "Q=" + path("Q.npy")], "Q is given twice"),
    (["--input", path("Q.npy")], "give NAME=FILE.npy"),
    (["--input", "Q=" + path("Q.npy"), "--output", path("Q.npy")], "Q.npy"),
]
for extra, fragment in cases:
    out = run(softmax, *extra, *([] if "--output" in extra else ["--output", path("err")]), code=2)
    check(fragment in out, f"message '{fragment}' in: {out.strip()}")
np.save(path("V_bad.npy"), rng.standard_normal((F, M + 2)))
out = run(softmax, "--input", "K=" + path("K.npy"), "--input", "V=" + path("V_bad.npy"),
          "--output", path("err"), code=2)
check("rank M is 21 in K but 23 in V" in out, f"conflicting ranks: {out.strip()}")
check(not os.path.exists(path("err")), "nothing written on an error")
check(np.load(path("Q.npy")).shape == (E, P), "an output naming an input leaves it as it was")

# 6. check --against: the user's NumPy outputs for the drawn inputs pass; a perturbed copy fails.
np.savez(path("drawn-in.npz"), Q=dq, K=dk, V=dv)
np.savez(path("ref.npz"), AV=want_drawn)
out = run(softmax, "--input", path("drawn-in.npz"), "--against", path("ref.npz"), command="check")
check("vs your outputs" in out and " ok" in out, f"check --against: {out.strip()}")
bad = want_drawn.copy()
bad[0, 0] += 1e-3
np.savez(path("bad-ref.npz"), AV=bad)
out = run(softmax, "--input", path("drawn-in.npz"), "--against", path("bad-ref.npz"),
          command="check", code=1)
check("FAILED" in out, f"check --against a wrong reference: {out.strip()}")
out = run(softmax, "--input", path("drawn-in.npz"), "--against", path("Q.npy"), "--set", "P=5",
          command="check", code=2)
check("has extents" in out or "has shape" in out, f"check --against wrong extents: {out.strip()}")

# 7. check --reference-cascade: the 1-pass form against the 3-pass form, and a cascade that
#    forgets the denominator against the 3-pass form.
out = run(one_pass, "--reference-cascade", softmax, "--format", "bf16", "--set", "P=40,M=70,E=16,F=8",
          command="check")
check("vs cascade softmax-3pass" in out and " ok" in out, f"1-pass vs 3-pass: {out.strip()}")
wrong = os.path.join(cascades, "..", "..", "tests", "data", "wrong", "softmax-no-denominator.yaml")
out = run(wrong, "--reference-cascade", softmax, "--format", "fp64", command="check", code=1)
check("FAILED" in out, f"no denominator vs 3-pass: {out.strip()}")

# 8. A cascade without a reference is told what to do before anything runs; a built-in
#    reference's parameter under another name is an error naming both, fixed by naming it.
text = open(os.path.join(cascades, "lightning.yaml")).read()
renamed = text.replace("lambda", "gamma").replace("function: lightning, causal: true",
                                                  "function: lightning, causal: true, lambda: gamma")
open(path("lightning-gamma.yaml"), "w").write(renamed.replace(", lambda: gamma", ""))
open(path("lightning-gamma-named.yaml"), "w").write(renamed)
out = run(path("lightning-gamma.yaml"), "--format", "fp64", command="check", code=2)
check("reads parameter 'lambda'" in out and "gamma" in out, f"lambda vs gamma: {out.strip()}")
out = run(path("lightning-gamma-named.yaml"), "--format", "fp64", command="check")
check(" ok" in out, f"lambda named gamma: {out.strip()}")
open(path("no-reference.yaml"), "w").write(
    "name: mine\ninputs: {X: [P]}\nshapes: {P: 4}\neinsums: |\n  Y[p] = X[p] * 2\noutputs: [Y]\n")
out = run(path("no-reference.yaml"), command="check", code=2)
check("--against FILE.npz" in out and "--reference-cascade" in out, f"no reference: {out.strip()}")

print("eval_numpy:", "FAILED" if failures else "ok", f"({len(failures)} failures)")
sys.exit(1 if failures else 0)
