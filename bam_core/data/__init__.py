"""The data: the GLUE task registry, the three sources (synthetic suite, GLUE TSVs, the hub) that
write prepared splits, and tokenization with the (demo or pretrained) encoder's tokenizer.
"""
