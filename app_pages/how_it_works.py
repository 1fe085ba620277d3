"""How it works: the two algorithms in plain words and formulas, and a distance calculator."""

from __future__ import annotations

import streamlit as st

from lab.workspace import parse_vector
from ui import calculator

st.title("How it works")
st.write(
    "A few-shot model has two phases. **Meta-training** (done before the app shipped) shows "
    "it thousands of small tasks, each with its own classes. **Adaptation** (what you do on "
    "Teach & classify) gives it one new task: your classes."
)

st.header("Words you will meet")
st.markdown(
    """
- **Examples you teach with (support set)**: the few labelled images per class, e.g. 5 classes
  with 1 image each is a *5-way 1-shot* task.
- **Images to check (queries)**: new images the model must put in one of those classes.
- **Inner loop**: learning one task from its support set (this is what happens in the app).
- **Outer loop**: meta-training, which improves the starting point so that the inner loop
  works well on tasks it has never seen; it is scored on the queries after the inner loop.
"""
)

proto_col, maml_col = st.columns(2, gap="large")
with proto_col:
    st.header("Prototypical Networks")
    st.caption("Snell, Swersky & Zemel, NeurIPS 2017")
    st.write("Each class is summarised by one point, its centre (prototype):")
    st.latex(r"c_k = \frac{1}{|S_k|} \sum_{(x_i, y_i) \in S_k} f_\phi(x_i)")
    st.write("A new image gets the class whose centre is nearest:")
    st.latex(
        r"p_\phi(y = k \mid x) = \frac{\exp(-d(f_\phi(x), c_k))}"
        r"{\sum_{k'} \exp(-d(f_\phi(x), c_{k'}))}"
    )
    st.markdown(
        r"""
- $f_\phi$: the embedding network (a Conv-4 for characters) with weights $\phi$
- $S_k$: your examples of class $k$; $c_k$: its centre
- $d$: a distance, squared Euclidean in the paper
- Adapting is just averaging: no gradient step at all.
"""
    )
with maml_col:
    st.header("MAML")
    st.caption("Finn, Abbeel & Levine, ICML 2017")
    st.write("The inner loop takes gradient steps on the support loss:")
    st.latex(r"\theta'_i = \theta - \alpha \nabla_\theta \mathcal{L}_{S_i}(f_\theta)")
    st.write("The outer loop (meta-training only) improves the starting point:")
    st.latex(
        r"\theta \leftarrow \theta - \beta \nabla_\theta \sum_i \mathcal{L}_{Q_i}(f_{\theta'_i})"
    )
    st.markdown(
        r"""
- $\theta$: the meta-learned starting weights; $\theta'_i$: the weights after adapting to task $i$
- $\alpha$: the inner step size (this app's model learned one per weight tensor; Inside
  MAML draws them)
- the last layer (one output per class) starts at zero for every new task, so before the
  first step every class is equally likely and the loss is $\ln N$ for $N$ classes: the
  inner steps do all the learning, and the same model serves 2 to 20 classes
- $\mathcal{L}_{S_i}$, $\mathcal{L}_{Q_i}$: the loss on task $i$'s support set and queries
- $\beta$: the outer learning rate. Differentiating through the inner steps gives
  second-order terms; first-order MAML drops them. At prediction time there is no outer
  loop, so the order makes no difference there.
"""
    )

st.header("Distance calculator")
st.write(
    "Type an embedding x and two class centres p1 and p2 (any length, the same for all "
    "three), and see the three distances the models can use, then the step after: the "
    "probability of each class (a softmax over the negative distances) and the nearest one."
)
x_col, p1_col, p2_col = st.columns(3)
texts = {
    "x": x_col.text_input("x (an image)", "1, 2, 3", key="calc_x"),
    "p1": p1_col.text_input("p1 (centre of class 1)", "2, 2, 2", key="calc_p1"),
    "p2": p2_col.text_input("p2 (centre of class 2)", "4, 4, 4", key="calc_p2"),
}
vectors = {}
for name, text in texts.items():
    try:
        vectors[name] = parse_vector(text)
    except ValueError as error:
        st.error(f"{name}: {error}")
if len(vectors) == 3:
    lengths = {len(v) for v in vectors.values()}
    if len(lengths) > 1:
        st.error(
            "x, p1 and p2 must have the same number of values; now they have "
            + ", ".join(f"{n}: {len(v)}" for n, v in vectors.items())
        )
    else:
        calculator.distance_table(vectors)
