"""WeChat Official Account channel tests and the simulated WeChat client they share."""
