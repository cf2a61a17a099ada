"""The larger families of torch.nn.functional (convolution, pooling, normalisation, sampling, dropout),
one module each; `gradscope.nn.functional` re-exports them."""
