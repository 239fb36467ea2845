"""Stable diagnostic codes of the ASL format (never reuse a retired number)."""

from __future__ import annotations

ASL_CODES: dict[str, str] = {
    "ASL-E001": "the definition does not match the ASL schema (a missing, unknown or mistyped field)",
    "ASL-E002": "a state has an unknown Type",
    "ASL-E010": "StartAt names a state that does not exist",
    "ASL-E011": "Next, Default or a catcher's Next names a state that does not exist",
    "ASL-E012": "a state cannot be reached from StartAt",
    "ASL-E013": "no terminal state: the machine (or a branch) can never end",
    "ASL-E014": "a state has both Next and End, or neither",
    "ASL-E015": "a state name is used twice in one machine (names are unique across branches too)",
    "ASL-E016": "a state name is longer than 80 characters",
    "ASL-E020": "a JSONPath field in a JSONata state, or a JSONata field in a JSONPath state",
    "ASL-E021": "a JSONPath state inside a JSONata machine",
    "ASL-E022": "a field that needs {% %} JSONata is not one, or {% %} is malformed",
    "ASL-E023": "a JSONata expression does not parse",
    "ASL-E030": "not a valid reference path (InputPath, OutputPath, ItemsPath, Variable, ...Path)",
    "ASL-E031": "not a valid ResultPath",
    "ASL-E032": "not a valid path or intrinsic function in a key ending in '.$'",
    "ASL-E033": "two keys of one object are the same once '.$' is removed",
    "ASL-E034": "a variable name in Assign is not valid",
    "ASL-E040": "a Task Resource needs a literal parameter (FunctionName, StateMachineArn)",
    "ASL-E041": "both a field and its ...Path form are set (TimeoutSeconds, HeartbeatSeconds, ...)",
    "ASL-E042": "HeartbeatSeconds must be smaller than TimeoutSeconds",
    "ASL-E043": "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath",
    "ASL-E044": "a Fail state sets both Error and ErrorPath, or Cause and CausePath",
    "ASL-E045": "a Map state needs exactly one of ItemProcessor and Iterator; ItemSelector and Parameters exclude each other",
    "ASL-E050": "a Choice rule has no comparison (or more than one), or a top-level rule has no Next",
    "ASL-E051": "States.ALL must be alone in ErrorEquals and in the last retrier or catcher",
    "ASL-E052": "an error name starting with 'States.' that is not a predefined error",
    "ASL-W001": "a construct this runtime accepts but runs differently from AWS (see docs/asl.md)",
}
