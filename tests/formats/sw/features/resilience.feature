Feature: Retries and timeouts (declarative_wf)
  As an implementer of the workflow DSL
  I want retry policies and timeouts to work on a durable engine
  So that workflows survive flaky services and give up on slow ones

  Scenario Outline: Retry With <backoff> Backoff
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: retry-<backoff>
      version: '1.0.0'
    do:
      - tryFlaky:
          try:
            - callFlaky:
                call: http
                with:
                  method: get
                  endpoint: https://httpbin.org/flaky/<backoff>-{run}?fail=2
          catch:
            errors:
              with:
                type: https://serverlessworkflow.io/spec/1.0.0/errors/communication
                status: 503
            retry:
              delay:
                milliseconds: 100
              backoff:
                <backoff>: {}
              limit:
                attempt:
                  count: 5
    """
    And given the workflow input is:
    """yaml
    run: <run>
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    attempts: 3
    """

    Examples:
      | backoff     | run |
      | constant    | c1  |
      | linear      | l1  |
      | exponential | e1  |

  Scenario: Retries Run Out And The Error Is Caught
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: retry-exhausted
      version: '1.0.0'
    do:
      - tryFlaky:
          try:
            - callFlaky:
                call: http
                with:
                  method: get
                  endpoint: https://httpbin.org/flaky/exhausted?fail=10
          catch:
            as: err
            retry:
              delay:
                milliseconds: 50
              backoff:
                constant: {}
              limit:
                attempt:
                  count: 2
            do:
              - report:
                  set:
                    status: ${ $err.status }
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    status: 503
    """

  Scenario: Call Task Timeout Raises A Timeout Error
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: call-timeout
      version: '1.0.0'
    do:
      - slowCall:
          call: http
          with:
            method: get
            endpoint: https://httpbin.org/delay/3
          timeout:
            after:
              milliseconds: 300
    """
    When the workflow is executed
    Then the workflow should fault with error:
    """yaml
    type: https://serverlessworkflow.io/spec/1.0.0/errors/timeout
    status: 408
    instance: /do/0/slowCall
    """

  Scenario: Wait Task Timeout Raises A Timeout Error
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: wait-timeout
      version: '1.0.0'
    do:
      - slow:
          wait:
            seconds: 3
          timeout:
            after:
              milliseconds: 300
    """
    When the workflow is executed
    Then the workflow should fault with error:
    """yaml
    type: https://serverlessworkflow.io/spec/1.0.0/errors/timeout
    status: 408
    """

  Scenario: Workflow Timeout Raises A Timeout Error
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: workflow-timeout
      version: '1.0.0'
    timeout:
      after:
        milliseconds: 300
    do:
      - slow:
          wait:
            seconds: 5
    """
    When the workflow is executed
    Then the workflow should fault with error:
    """yaml
    type: https://serverlessworkflow.io/spec/1.0.0/errors/timeout
    status: 408
    """
