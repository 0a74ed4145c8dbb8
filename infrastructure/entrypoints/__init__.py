"""Entry points: the command line, the HTTP API and its screen, and the S3 import Lambda.

They parse what a person or a service sends, open the composition root and hand the
services parsed input; the stream handler itself is `infrastructure.lambda_handlers`, the
name the deployed functions are configured with.
"""
