"""StepCoder's curriculum: conditional-statement spans, CCCS subtasks and FGO token masks.

`spans` (conditional statements from the AST), `subtasks` (the code-completion subtasks and
their stages), `masks` (character ranges -> token masks: prefix masking and FGO). Pure
Python: the trainers and the TRL integration share them.
"""
