"""Few-Shot Lab's own model of the app, without Streamlit: the workspace a visitor builds,
sessions saved and loaded, example lessons, batches, the camera, checks, comparisons, the
embedding explorer, the from-scratch baseline, the figures (viz), the toy playground and the
one-shot game. It uses the few-shot library (core/) and is used by the pages (app_pages/, ui/);
core/ never imports it."""
