Feature: Schedules (declarative_wf)
  As an operator of workflows
  I want definitions with a schedule to start by themselves
  So that periodic and event-driven workflows need no caller

  Scenario: Schedule Every Second
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: tick
      version: '1.0.0'
    schedule:
      every:
        seconds: 1
    do:
      - tick:
          set:
            ticked: true
    """
    When the workflow is scheduled for 3.5 seconds
    Then the schedule should have started at least 2 instances
    And a scheduled instance should complete with output:
    """yaml
    ticked: true
    """

  Scenario: Schedule On An Event
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: on-order
      version: '1.0.0'
    schedule:
      on:
        one:
          with:
            type: com.example.order.created.v1
    do:
      - handle:
          set:
            orderId: ${ .[0].data.orderId }
    """
    When the workflow is scheduled
    And the schedule is listening
    And an event is published:
    """yaml
    type: com.example.order.created.v1
    data: { orderId: 99 }
    """
    Then a scheduled instance should complete with output:
    """yaml
    orderId: 99
    """
