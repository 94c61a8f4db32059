"""Sub-commands of `dataledger`, one module each; heavy imports stay inside the command functions."""
