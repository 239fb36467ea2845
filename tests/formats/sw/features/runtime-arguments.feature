Feature: Runtime expression arguments and retry limits (declarative_wf)
  As an implementer of the workflow DSL
  I want $authorization, the data a catch starts from and per-attempt limits to follow the specification
  So that workflows see exactly the arguments the DSL defines

  # httpbin.org is routed by the tests to a local stand-in server.

  Scenario: Output As Sees The Authorization The Call Sent
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: authorization-argument
      version: '1.0.0'
    do:
      - login:
          call: http
          with:
            method: get
            endpoint:
              uri: https://httpbin.org/basic-auth/ann/pw
              authentication:
                basic: { username: ann, password: pw }
          output:
            as: '{ user: .user, scheme: $authorization.scheme, parameter: $authorization.parameter }'
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    user: ann
    scheme: Basic
    parameter: YW5uOnB3
    """

  Scenario: Catch Do Starts From The Transformed Input
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: catch-transformed-input
      version: '1.0.0'
    do:
      - guarded:
          input:
            from: .order
          try:
            - refuse:
                raise:
                  error: { type: https://example.com/refused, status: 409 }
          catch:
            as: problem
            do:
              - note:
                  set: { order: '${ .id }', status: '${ $problem.status }' }
          output:
            as: '{ handled: . }'
    """
    And given the workflow input is:
    """yaml
    order: { id: 42 }
    customer: ann
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    handled: { order: 42, status: 409 }
    """

  Scenario: Each Attempt Is Bounded By Its Duration
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: attempt-duration
      version: '1.0.0'
    do:
      - slowStep:
          try:
            - pause:
                wait: PT10S
          catch:
            as: failure
            retry:
              delay: { milliseconds: 50 }
              limit:
                attempt: { count: 2, duration: { milliseconds: 200 } }
            do:
              - note:
                  set: { error: '${ $failure.type }', status: '${ $failure.status }' }
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    error: https://serverlessworkflow.io/spec/1.0.0/errors/timeout
    status: 408
    """
