Feature: Suspend, resume, cancel and events between instances (declarative_wf)
  As an operator of workflows
  I want to control running instances and connect them with events
  So that long-running workflows can be managed

  Scenario: Suspended Workflow Completes After Resume
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: suspend-resume
      version: '1.0.0'
    do:
      - pause:
          wait:
            seconds: 1
      - done:
          set:
            finished: true
    """
    When the workflow is started
    And the workflow is suspended
    And the workflow is resumed
    Then the workflow should complete with output:
    """yaml
    finished: true
    """

  Scenario: Cancelled Workflow
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: cancel
      version: '1.0.0'
    do:
      - pause:
          wait:
            minutes: 5
    """
    When the workflow is started
    And the workflow is cancelled
    Then the workflow should cancel

  Scenario: Emit To Listen Between Two Instances
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: listener
      version: '1.0.0'
    do:
      - waitForGreeting:
          listen:
            to:
              one:
                with:
                  type: com.example.greeted.v1
          output:
            as: '{ greeting: .[0].greeting }'
    """
    When the workflow is started
    And the workflow is listening
    And another workflow is executed with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: emitter
      version: '1.0.0'
    do:
      - greet:
          emit:
            event:
              with:
                source: https://example.com/tests
                type: com.example.greeted.v1
                data:
                  greeting: hello
    """
    Then the workflow should complete with output:
    """yaml
    greeting: hello
    """
