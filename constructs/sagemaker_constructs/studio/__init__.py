"""Studio: the VPC-only domain, user profiles and spaces, and its teardown."""
