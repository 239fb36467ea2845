"""ASL semantics on the in-memory host: the context object, determinism under replay, Retry and
Catch, error names and causes, variables and their scopes, Map limits and batching, JSONata."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from declarative_wf.interpreter.commands import CallActivity, Sleep, WorkflowError

from ...interpreter.harness import EPOCH, FakeHost
from .helpers import compile_definition, run_asl


def single(state: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {**top, "StartAt": "S", "States": {"S": {**state, "End": True} if state["Type"] not in ("Succeed", "Fail", "Choice") else state}}


# -- the context object ---------------------------------------------------------------------------


def test_context_object_fields() -> None:
    definition = single({"Type": "Pass", "Parameters": {"ctx.$": "$$"}}, Comment="x")
    outcome = run_asl(definition, {"a": 1}, instance_id="inst-1")
    context = outcome.value["ctx"]
    assert context["Execution"]["Input"] == {"a": 1}
    assert context["Execution"]["Name"] == "inst-1"
    assert context["Execution"]["Id"].endswith(":execution:machine:inst-1")
    assert context["Execution"]["StartTime"] == "2026-01-01T00:00:00.000Z"
    assert context["StateMachine"]["Name"] == "machine"
    assert context["State"] == {"Name": "S", "EnteredTime": "2026-01-01T00:00:00.000Z", "RetryCount": 0}


def test_map_item_context_in_item_selector() -> None:
    definition = single({
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemSelector": {"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value", "outer.$": "$.tag"},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
    })
    outcome = run_asl(definition, {"items": ["a", "b"], "tag": 7})
    assert outcome.value == [{"index": 0, "value": "a", "outer": 7}, {"index": 1, "value": "b", "outer": 7}]


def test_jsonata_states_context() -> None:
    definition = single({"Type": "Pass", "Output": "{% [$states.context.State.Name, $states.context.Execution.Input.x] %}"}, QueryLanguage="JSONata")
    assert run_asl(definition, {"x": 3}).value == ["S", 3]


# -- determinism ----------------------------------------------------------------------------------

RANDOM_THINGS = {
    "QueryLanguage": "JSONPath",
    "StartAt": "A",
    "States": {
        "A": {"Type": "Pass", "Parameters": {"uuid.$": "States.UUID()", "n.$": "States.MathRandom(1, 1000000)"}, "Next": "B"},
        "B": {
            "Type": "Pass",
            "QueryLanguage": "JSONata",
            "Output": {"first": "{% $states.input %}", "uuid": "{% $uuid() %}", "random": "{% $random() %}", "now": "{% $now() %}", "millis": "{% $millis() %}"},
            "End": True,
        },
    },
}


def test_random_values_come_from_the_orchestration_and_replay_identically() -> None:
    first = run_asl(RANDOM_THINGS, None, instance_id="same").value
    again = run_asl(RANDOM_THINGS, None, instance_id="same").value
    other = run_asl(RANDOM_THINGS, None, instance_id="different").value
    assert first == again
    assert first["uuid"] != other["uuid"] and first["first"]["uuid"] != other["first"]["uuid"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first["uuid"])
    assert 0 <= first["random"] < 1
    assert first["now"] == "2026-01-01T00:00:00.000Z"  # the workflow clock, not the machine's
    assert first["millis"] == int(EPOCH.timestamp() * 1000)


def test_eval_is_not_available_in_jsonata() -> None:
    outcome = run_asl(single({"Type": "Pass", "Output": "{% $eval('1 + 1') %}"}, QueryLanguage="JSONata"))
    assert outcome.status == "failed" and outcome.value.type == "States.QueryEvaluationError"


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("$partition([1, 2, 3, 4, 5], 2)", [[1, 2], [3, 4], [5]]),
        ("$range(0, 10, 5)", [0, 5, 10]),
        ("$range(3, 3, 1)", 3),  # a one-number range is that number (a JSONata sequence)
        ("$hash('hello', 'SHA-256')", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
        ("$parse('{\"a\": [1, null]}')", {"a": [1, None]}),
        ("$random(7) = $random(7)", True),
    ],
)
def test_step_functions_jsonata_functions(expression: str, value: Any) -> None:
    outcome = run_asl(single({"Type": "Pass", "Output": "{% " + expression + " %}"}, QueryLanguage="JSONata"))
    assert outcome.status == "completed", outcome.value
    assert outcome.value == value


# -- data flow ------------------------------------------------------------------------------------


def test_jsonpath_data_flow_order() -> None:
    host = FakeHost({"double": lambda payload: {"value": payload["n"] * 2, "noise": True}})
    definition = single({
        "Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double",
        "InputPath": "$.inner",
        "Parameters": {"n.$": "$.n"},
        "ResultSelector": {"doubled.$": "$.value"},
        "ResultPath": "$.inner.result",
        "OutputPath": "$.inner",
        "Assign": {"raw.$": "$.noise"},
    })
    outcome = run_asl(definition, {"inner": {"n": 21}, "other": 1}, host=host)
    assert outcome.value == {"n": 21, "result": {"doubled": 42}}
    assert host.calls == {"double": 1}


def test_jsonata_arguments_output_and_states_result() -> None:
    host = FakeHost({"greet": lambda payload: f"hello {payload['who']}"})
    definition = single(
        {"Type": "Task", "Resource": "greet", "Arguments": {"who": "{% $states.input.name %}"}, "Output": {"said": "{% $states.result %}", "to": "{% $states.input.name %}"}},
        QueryLanguage="JSONata",
    )
    assert run_asl(definition, {"name": "ada"}, host=host).value == {"said": "hello ada", "to": "ada"}


def test_assign_values_use_the_variables_from_before_the_state() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
            "B": {"Type": "Pass", "Assign": {"x": 2, "y.$": "$x"}, "Next": "C"},
            "C": {"Type": "Pass", "Parameters": {"x.$": "$x", "y.$": "$y"}, "End": True},
        },
    }
    assert run_asl(definition).value == {"x": 2, "y": 1}


def test_jsonata_output_sees_the_variables_from_before_the_state() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
            "B": {"Type": "Pass", "Assign": {"x": 2}, "Output": "{% $x %}", "Next": "C"},
            "C": {"Type": "Pass", "Output": "{% [$states.input, $x] %}", "End": True},
        },
    }
    assert run_asl(definition).value == [1, 2]


def test_map_iterations_read_outer_variables_but_do_not_leak_their_own() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Assign": {"outer": "o"}, "Next": "M"},
            "M": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "I",
                    "States": {
                        "I": {"Type": "Pass", "Assign": {"inner.$": "$"}, "Next": "J"},
                        "J": {"Type": "Pass", "Parameters": {"outer.$": "$outer", "inner.$": "$inner"}, "End": True},
                    },
                },
                "Next": "After",
            },
            "After": {"Type": "Pass", "Parameters": {"result.$": "$", "inner.$": "$inner"}, "End": True},
        },
    }
    outcome = run_asl(definition, [1, 2])
    assert outcome.status == "failed"  # $inner is not defined outside the iterations
    assert outcome.value.type == "States.Runtime"


def test_result_path_null_keeps_the_input_and_input_path_null_gives_an_empty_object() -> None:
    definition = single({"Type": "Pass", "InputPath": None, "Parameters": {"seen.$": "$"}, "ResultPath": "$.got"})
    assert run_asl(definition, {"a": 1}).value == {"a": 1, "got": {"seen": {}}}
    definition = single({"Type": "Pass", "Result": {"x": 1}, "ResultPath": None})
    assert run_asl(definition, {"a": 1}).value == {"a": 1}


# -- errors, Retry and Catch ----------------------------------------------------------------------


class OutOfStock(Exception):
    pass


def flaky(failures: int) -> Any:
    calls = {"n": 0}

    def activity(payload: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise OutOfStock(f"try {calls['n']}")
        return {"ok": calls["n"]}

    return activity


def test_retry_with_backoff_waits_on_durable_timers() -> None:
    host = FakeHost({"reserve": flaky(2)})
    definition = single({
        "Type": "Task", "Resource": "reserve",
        "Retry": [{"ErrorEquals": ["OutOfStock"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 3}],
    })
    outcome = run_asl(definition, {}, host=host)
    assert outcome.value == {"ok": 3}
    sleeps = [command.until - EPOCH for command in outcome.commands if isinstance(command, Sleep)]
    assert sleeps == [timedelta(seconds=2), timedelta(seconds=2 + 6)]
    assert host.calls == {"reserve": 3}


def test_max_delay_and_zero_max_attempts() -> None:
    host = FakeHost({"reserve": flaky(5)})
    definition = single({
        "Type": "Task", "Resource": "reserve",
        "Retry": [
            {"ErrorEquals": ["Other"], "MaxAttempts": 0},
            {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "BackoffRate": 10, "MaxDelaySeconds": 15, "MaxAttempts": 2},
        ],
    })
    outcome = run_asl(definition, {}, host=host)
    assert outcome.status == "failed" and outcome.value.type == "OutOfStock"
    sleeps = [command.until for command in outcome.commands if isinstance(command, Sleep)]
    assert [(b - a).total_seconds() for a, b in zip([EPOCH, *sleeps], sleeps)] == [10, 15]


def test_activity_errors_look_like_lambda_errors_and_are_caught() -> None:
    host = FakeHost({"reserve": flaky(10)})
    definition = {
        "StartAt": "T",
        "States": {
            "T": {"Type": "Task", "Resource": "reserve", "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Handled"}], "End": True},
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    outcome = run_asl(definition, {"order": 1}, host=host)
    error = outcome.value["error"]
    assert outcome.value["order"] == 1
    assert error["Error"] == "OutOfStock"
    assert json.loads(error["Cause"]) == {"errorMessage": "try 1", "errorType": "OutOfStock"}


def test_states_all_does_not_catch_states_runtime() -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "InputPath": "$.missing", "End": True}}}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Succeed"},
        },
    }
    outcome = run_asl(definition, {})
    assert outcome.status == "failed" and outcome.value.type == "States.Runtime"
    assert outcome.value.message == (
        "An error occurred while executing the state 'B' (entered at the event id #4). "
        "Invalid path '$.missing' : No results for path: $['missing']"
    )


def test_catch_jsonata_output_and_assign_see_the_error_output() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Oops", "Cause": "because"}}}],
                "Catch": [{"ErrorEquals": ["Oops"], "Output": {"caught": "{% $states.errorOutput %}", "in": "{% $states.input %}"}, "Assign": {"why": "{% $states.errorOutput.Cause %}"}, "Next": "After"}],
                "End": True,
            },
            "After": {"Type": "Pass", "Output": "{% [$states.input, $why] %}", "End": True},
        },
    }
    outcome = run_asl(definition, {"x": 1})
    assert outcome.value == [{"caught": {"Error": "Oops", "Cause": "because"}, "in": {"x": 1}}, "because"]


def test_parallel_retries_a_failed_branch() -> None:
    host = FakeHost({"reserve": flaky(1)})
    definition = single({
        "Type": "Parallel",
        "Branches": [{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "reserve", "End": True}}}],
        "Retry": [{"ErrorEquals": ["OutOfStock"], "IntervalSeconds": 1}],
    })
    assert run_asl(definition, {}, host=host).value == [{"ok": 2}]


def test_fail_state_with_paths_and_intrinsics() -> None:
    definition = single({"Type": "Fail", "ErrorPath": "$.kind", "CausePath": "States.Format('bad {}', $.id)"})
    outcome = run_asl(definition, {"kind": "Broken", "id": 7})
    assert (outcome.value.type, outcome.value.message) == ("Broken", "bad 7")


def test_intrinsic_failure_is_catchable() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "Parameters": {"x.$": "States.StringToJson($.text)"}, "End": True}}}],
                "Catch": [{"ErrorEquals": ["States.IntrinsicFailure"], "ResultPath": "$.error", "Next": "Done"}],
                "End": True,
            },
            "Done": {"Type": "Succeed"},
        },
    }
    outcome = run_asl(definition, {"text": "{not json"})
    assert outcome.value["error"]["Error"] == "States.IntrinsicFailure"


def test_an_output_over_256_kib_is_states_data_limit_exceeded() -> None:
    definition = single({"Type": "Pass", "Parameters": {"big.$": "$.text"}})
    outcome = run_asl(definition, {"text": "x" * (256 * 1024)})
    assert outcome.status == "failed"
    assert outcome.value.type == "States.DataLimitExceeded"
    assert outcome.value.message == "The state/task 'S' returned a result with a size exceeding the maximum number of bytes service limit."


def test_wait_seconds_path_checks_like_aws() -> None:
    definition = single({"Type": "Wait", "SecondsPath": "$.s"})
    assert run_asl(definition, {"s": 2}).clock == EPOCH + timedelta(seconds=2)
    outcome = run_asl(definition, {"s": 1.5})
    assert outcome.value.message.endswith("The SecondsPath parameter cannot be parsed as a long value: $.s == 1.5")


# -- Map ------------------------------------------------------------------------------------------


def test_map_max_concurrency_bounds_the_running_items() -> None:
    workflow = compile_definition(single({
        "Type": "Map", "MaxConcurrencyPath": "$.limit", "ItemsPath": "$.items",
        "ItemProcessor": {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}},
    }))
    from ...interpreter.harness import drive

    outcome = drive(workflow, {"limit": 2, "items": [1, 2, 3, 4, 5]})
    assert outcome.value == [1, 2, 3, 4, 5]
    assert outcome.clock == EPOCH + timedelta(seconds=3)  # 5 items, 2 at a time, 1 s each


def test_map_tolerated_failures() -> None:
    processor = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericGreaterThan": 2, "Next": "F"}], "Default": "P"},
        "F": {"Type": "Fail", "Error": "TooBig"},
        "P": {"Type": "Pass", "End": True},
    }}  # fmt: skip
    tolerant = single({"Type": "Map", "ItemProcessor": processor, "ToleratedFailureCount": 2})
    assert run_asl(tolerant, [1, 2, 3, 4]).status == "completed"
    strict = single({"Type": "Map", "ItemProcessor": processor, "ToleratedFailurePercentage": 20})
    outcome = run_asl(strict, [1, 2, 3, 4])
    assert outcome.value.type == "States.ExceedToleratedFailureThreshold"
    plain = single({"Type": "Map", "ItemProcessor": processor})
    assert run_asl(plain, [1, 2, 3, 4]).value.type == "TooBig"


def test_item_batcher() -> None:
    definition = single({
        "Type": "Map",
        "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"tag": "t"}},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
    })
    assert run_asl(definition, [1, 2, 3]).value == [{"Items": [1, 2], "BatchInput": {"tag": "t"}}, {"Items": [3], "BatchInput": {"tag": "t"}}]


def test_legacy_iterator_and_parameters() -> None:
    definition = single({
        "Type": "Map", "ItemsPath": "$.xs", "Parameters": {"x.$": "$$.Map.Item.Value"},
        "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "ResultSelector": {"all.$": "$[*].x"},
    })
    assert run_asl(definition, {"xs": [1, 2]}).value == {"all": [1, 2]}


# -- tasks and resources --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resource",
    ["arn:aws:lambda:us-east-1:123456789012:function:work", "arn:aws:lambda:us-east-1:123456789012:function:work:live", "work", "arn:aws:states:us-east-1:123456789012:activity:work"],
)
def test_resources_that_name_an_activity(resource: str) -> None:
    host = FakeHost({"work": lambda payload: payload["n"] + 1})
    outcome = run_asl(single({"Type": "Task", "Resource": resource}), {"n": 1}, host=host)
    assert outcome.value == 2
    assert [command.name for command in outcome.commands if isinstance(command, CallActivity)] == ["work"]


def test_lambda_invoke_sends_the_payload_and_shapes_the_result() -> None:
    host = FakeHost({"work": lambda payload: payload["n"] + 1})
    definition = single({
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:work", "Payload": {"n.$": "$.n"}},
        "OutputPath": "$.Payload",
    })
    assert run_asl(definition, {"n": 41}, host=host).value == 42


def test_http_invoke_calls_the_http_activity() -> None:
    seen: list[Any] = []

    def http(request: Any) -> Any:
        seen.append(request)
        return {"status": 200, "headers": {"content-type": "application/json"}, "body": {"id": 9}}

    definition = single({
        "Type": "Task", "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {"ApiEndpoint": "https://api.example.com/orders", "Method": "POST", "RequestBody": {"n.$": "$.n"}, "Headers": {"x": "1"}},
        "ResultSelector": {"id.$": "$.ResponseBody.id", "status.$": "$.StatusCode"},
    })
    outcome = run_asl(definition, {"n": 3}, host=FakeHost({"http": http}))
    assert outcome.value == {"id": 9, "status": 200}
    assert seen == [{"method": "POST", "url": "https://api.example.com/orders", "raise_for_status": True, "headers": {"x": "1"}, "body": {"n": 3}}]


def test_start_execution_runs_a_child_workflow_by_name() -> None:
    calls: list[tuple[dict[str, Any], str]] = []

    def children(payload: dict[str, Any], instance_id: str) -> Any:
        calls.append((payload, instance_id))
        return {"child": payload["input"]}

    definition = single({
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:billing", "Input": {"n.$": "$.n"}},
        "OutputPath": "$.Output",
    })
    outcome = run_asl(definition, {"n": 5}, host=FakeHost({}, children=children))
    assert outcome.value == {"child": {"n": 5}}
    assert calls[0][0] == {"definition": "billing", "input": {"n": 5}}


def test_a_failure_names_the_state_and_the_event() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Pass", "OutputPath": "$.nope", "End": True},
        },
    }
    outcome = run_asl(definition, {})
    assert isinstance(outcome.value, WorkflowError)
    assert outcome.value.message.startswith("An error occurred while executing the state 'B' (entered at the event id #4). ")
    assert outcome.value.source is not None and outcome.value.source.line == 8


def test_a_result_path_through_a_missing_index_is_a_result_path_match_failure() -> None:
    definition = single({"Type": "Pass", "Result": 1, "ResultPath": "$.list[5]"})
    outcome = run_asl(definition, {"list": [0]})
    assert outcome.status == "failed" and outcome.value.type == "States.ResultPathMatchFailure"
