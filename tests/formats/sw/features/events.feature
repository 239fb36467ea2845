Feature: Listening to events (declarative_wf)
  As an implementer of the workflow DSL
  I want listen tasks to consume CloudEvents from the engine's event bus
  So that workflows react to the outside world

  Scenario: Listen To One Event
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: listen-one
      version: '1.0.0'
    do:
      - waitForOrder:
          listen:
            to:
              one:
                with:
                  type: com.example.order.placed.v1
          output:
            as: .[0].orderId
    """
    When the workflow is started
    And an event is published:
    """yaml
    type: com.example.order.placed.v1
    data:
      orderId: 42
    """
    Then the workflow should complete with output:
    """yaml
    42
    """

  Scenario: Listen To All Events
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: listen-all
      version: '1.0.0'
    do:
      - waitForBoth:
          listen:
            to:
              all:
                - with:
                    type: com.example.paid.v1
                - with:
                    type: com.example.shipped.v1
          output:
            as: '{ count: length }'
    """
    When the workflow is started
    And an event is published:
    """yaml
    type: com.example.shipped.v1
    data: { box: 1 }
    """
    And an event is published:
    """yaml
    type: com.example.paid.v1
    data: { amount: 10 }
    """
    Then the workflow should complete with output:
    """yaml
    count: 2
    """

  Scenario: Listen To Any Event Until A Stop Event
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: listen-until
      version: '1.0.0'
    do:
      - collect:
          listen:
            to:
              any:
                - with:
                    type: com.example.reading.v1
              until:
                one:
                  with:
                    type: com.example.stop.v1
          output:
            as: '{ readings: [ .[].value ] }'
    """
    When the workflow is started
    And an event is published:
    """yaml
    type: com.example.reading.v1
    data: { value: 1 }
    """
    And an event is published:
    """yaml
    type: com.example.reading.v1
    data: { value: 2 }
    """
    And an event is published:
    """yaml
    type: com.example.stop.v1
    data: {}
    """
    Then the workflow should complete with output:
    """yaml
    readings: [ 1, 2 ]
    """

  Scenario: Listen With Correlation
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: listen-correlated
      version: '1.0.0'
    do:
      - waitForMyOrder:
          listen:
            to:
              one:
                with:
                  type: com.example.order.shipped.v1
                correlate:
                  orderId:
                    from: .data.orderId
                    expect: ${ .orderId }
          output:
            as: .[0].carrier
    """
    And given the workflow input is:
    """yaml
    orderId: 7
    """
    When the workflow is started
    And an event is published:
    """yaml
    type: com.example.order.shipped.v1
    data: { orderId: 8, carrier: wrong }
    """
    And an event is published:
    """yaml
    type: com.example.order.shipped.v1
    data: { orderId: 7, carrier: right }
    """
    Then the workflow should complete with output:
    """yaml
    right
    """

  Scenario: Lifecycle Events Are Published
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: lifecycle
      version: '1.0.0'
    do:
      - greet:
          set:
            hello: world
    """
    When the workflow is executed
    Then the workflow should complete
    And the lifecycle events of the workflow should include 'workflow.started', 'task.started', 'task.completed', 'workflow.completed'
