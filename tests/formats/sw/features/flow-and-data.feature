Feature: Waiting, context and schemas (declarative_wf)
  As an implementer of the workflow DSL
  I want wait, export/$context, schemas and secrets to behave as the specification says
  So that data flows the same way in every runtime

  Scenario: Wait Task Keeps Its Input
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: wait
      version: '1.0.0'
    do:
      - pause:
          wait:
            milliseconds: 200
      - pauseIso:
          wait: PT0.2S
    """
    And given the workflow input is:
    """yaml
    color: red
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    color: red
    """
    And pause should run first
    And pauseIso should run after pause

  Scenario: Export Feeds The Context Of Later Tasks
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: export-context
      version: '1.0.0'
    do:
      - remember:
          set:
            user: ann
          export:
            as: '{ who: .user }'
      - useIt:
          set:
            greeting: ${ "Hello " + $context.who }
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    greeting: Hello ann
    """

  Scenario: Input Schema Rejects Bad Input
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: input-schema
      version: '1.0.0'
    input:
      schema:
        format: json
        document:
          type: object
          required: [ petId ]
          properties:
            petId:
              type: integer
    do:
      - echo:
          set:
            id: ${ .petId }
    """
    And given the workflow input is:
    """yaml
    petId: not-a-number
    """
    When the workflow is executed
    Then the workflow should fault with error:
    """yaml
    type: https://serverlessworkflow.io/spec/1.0.0/errors/validation
    status: 400
    """

  Scenario: Output Schema Rejects Bad Output
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: output-schema
      version: '1.0.0'
    output:
      schema:
        format: json
        document:
          type: object
          required: [ total ]
    do:
      - compute:
          set:
            sum: 3
    """
    When the workflow is executed
    Then the workflow should fault with error:
    """yaml
    type: https://serverlessworkflow.io/spec/1.0.0/errors/validation
    status: 400
    """

  Scenario: Task Output Schema Accepts Good Output
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: task-output-schema
      version: '1.0.0'
    do:
      - compute:
          set:
            total: 3
          output:
            schema:
              format: json
              document:
                type: object
                required: [ total ]
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    total: 3
    """

  Scenario: Secrets Are Read In Input From
    Given the secrets are:
    """yaml
    apiKey: s3cr3t-value
    """
    And given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: secrets
      version: '1.0.0'
    use:
      secrets: [ apiKey ]
    input:
      from: '{ keyLength: ($secrets.apiKey | length) }'
    do:
      - echo:
          set:
            length: ${ .keyLength }
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    length: 12
    """

  Scenario: Task Steps Report Each Task
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: task-steps
      version: '1.0.0'
    do:
      - first:
          set:
            n: 1
      - second:
          try:
            - failing:
                raise:
                  error:
                    type: https://example.com/errors/boom
                    status: 500
          catch:
            as: e
            do:
              - recover:
                  set:
                    recovered: ${ $e.status }
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    recovered: 500
    """
    And first should run before second
    And first should complete with output:
    """yaml
    n: 1
    """
    And failing should fault with error:
    """yaml
    type: https://example.com/errors/boom
    status: 500
    """
    And second should complete
