"""Small reusable checkers, names and the instance-type catalog."""
