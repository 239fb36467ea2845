Feature: Events, listen, emit, schedule and lifecycle events (declarative_wf)
  As an author of event-driven workflows
  I want workflows to consume and publish CloudEvents
  So that instances react to the outside world and to each other

  Scenario: Listen To All Correlated Events
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: room-readings
      version: '1.0.0'
    do:
      - consumeReading:
          listen:
            to:
              all:
                - with: {type: my.home.sensors.temperature}
                  correlate: {roomId: {from: .roomid}}
                - with: {type: my.home.sensors.humidity}
                  correlate: {roomId: {from: .roomid}}
          output:
            as: '{ readings: [ .[].reading ] }'
    """
    When the workflow is started
    And the workflow is listening
    And the events are published:
    """yaml
    - {specversion: '1.0', id: r1, source: https://my.home.com/sensor, type: my.home.sensors.temperature, roomid: kitchen, data: {reading: 21}}
    - {specversion: '1.0', id: r2, source: https://my.home.com/sensor, type: my.home.sensors.humidity, roomid: bathroom, data: {reading: 80}}
    - {specversion: '1.0', id: r3, source: https://my.home.com/sensor, type: my.home.sensors.humidity, roomid: kitchen, data: {reading: 40}}
    """
    Then the workflow should complete with output:
    """yaml
    readings: [21, 40]
    """

  Scenario: Listen To Any Until A Condition With Foreach
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: gossip
      version: '1.0.0'
    do:
      - listenToGossips:
          listen:
            to:
              any: []
              until: ( . | length ) >= 2
          foreach:
            item: gossip
            at: i
            do:
              - keep:
                  set:
                    number: ${ $i }
                    text: ${ $gossip.text }
    """
    When the workflow is started
    And the workflow is listening
    And the events are published:
    """yaml
    - {specversion: '1.0', id: g1, source: /town, type: gossip, data: {text: first}}
    - {specversion: '1.0', id: g2, source: /town, type: gossip, data: {text: second}}
    - {specversion: '1.0', id: g3, source: /town, type: gossip, data: {text: third}}
    """
    Then the workflow should complete with output:
    """yaml
    - {number: 0, text: first}
    - {number: 1, text: second}
    """

  Scenario: Emitted Event Is The Task Output
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: emit-output
      version: '1.0.0'
    do:
      - emitEvent:
          emit:
            event:
              with:
                source: https://petstore.com
                type: com.petstore.order.placed.v1
                data: {quantity: 101}
    """
    When the workflow is executed
    Then the workflow should complete
    And the workflow output should have properties 'id', 'specversion', 'time', 'source', 'type', 'data'
    And the workflow output should have a 'data' property with value:
    """yaml
    quantity: 101
    """

  Scenario: Schedule On An Event Starts An Instance With The Events As Input
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: heartbeat-alert
      version: '1.0.0'
    schedule:
      on:
        one:
          with: {type: com.example.hospital.events.patients.heartbeat.low}
    do:
      - callNurse:
          set:
            patient: ${ $workflow.input[0].data.patient.id }
    """
    When the workflow is scheduled
    And the schedule is listening
    And the events are published:
    """yaml
    - {specversion: '1.0', id: h1, source: /monitor, type: com.example.hospital.events.patients.heartbeat.low, data: {patient: {id: p-7}}}
    """
    Then a scheduled instance should complete with output:
    """yaml
    patient: p-7
    """

  Scenario: Schedule Every Interval
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: ticker
      version: '1.0.0'
    schedule:
      every: {milliseconds: 300}
    do:
      - tick:
          set: {ticked: true}
    """
    When the workflow is scheduled for 1 second
    Then the schedule should have started at least 2 instances
    And a scheduled instance should complete with output:
    """yaml
    ticked: true
    """

  Scenario: Lifecycle Events Reach A Listener
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: lifecycle-watcher
      version: '1.0.0'
    do:
      - watch:
          listen:
            to:
              any:
                - with:
                    type: io\.serverlessworkflow\..*
                    data: ${ (.name // .workflow) | startswith("lifecycle-observed-") }
              until: any(.[]; .type == "io.serverlessworkflow.workflow.completed.v1")
            read: envelope
          output:
            as: '[ .[].type ]'
    """
    When the workflow is started
    And the workflow is listening
    And another workflow is executed with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: lifecycle-observed
      version: '1.0.0'
    do:
      - only:
          set: {done: true}
    """
    Then the workflow should complete with output:
    """yaml
    - io.serverlessworkflow.workflow.started.v1
    - io.serverlessworkflow.workflow.status-changed.v1
    - io.serverlessworkflow.task.created.v1
    - io.serverlessworkflow.task.status-changed.v1
    - io.serverlessworkflow.task.started.v1
    - io.serverlessworkflow.task.status-changed.v1
    - io.serverlessworkflow.task.completed.v1
    - io.serverlessworkflow.task.status-changed.v1
    - io.serverlessworkflow.workflow.completed.v1
    """

  Scenario: Lifecycle Events Of A Faulted Workflow
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: lifecycle-faulted
      version: '1.0.0'
    do:
      - fail:
          raise:
            error:
              type: https://serverlessworkflow.io/spec/1.0.0/errors/validation
              status: 400
              title: Bad
    """
    When the workflow is executed
    Then the workflow should fault
    And the lifecycle events of the workflow should include 'workflow.started', 'task.started', 'task.faulted', 'workflow.faulted'

  Scenario: Suspending, Resuming And Cancelling Reach The Task In Flight
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: lifecycle-control
      version: '1.0.0'
    do:
      - prepare:
          set: {ready: true}
      - pause:
          wait: {minutes: 10}
    """
    When the workflow is started
    And we wait 0.5 seconds
    And the workflow is suspended
    And the workflow is resumed
    And the workflow is cancelled
    Then the workflow should cancel
    And the lifecycle events of the workflow should include 'workflow.started', 'task.created', 'task.started', 'task.completed', 'task.created', 'task.started', 'workflow.suspended', 'task.suspended', 'workflow.resumed', 'task.resumed', 'task.cancelled', 'workflow.cancelled'

  Scenario: Listening Reports The Correlation
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: lifecycle-correlation
      version: '1.0.0'
    do:
      - waitForPayment:
          listen:
            to:
              one:
                with: {type: com.shop.payment}
                correlate:
                  order: {from: .data.order, expect: 'o-12'}
    """
    When the workflow is started
    And the workflow is listening
    And the events are published:
    """yaml
    - {specversion: '1.0', id: p1, source: /shop, type: com.shop.payment, data: {order: o-11}}
    - {specversion: '1.0', id: p2, source: /shop, type: com.shop.payment, data: {order: o-12}}
    """
    Then the workflow should complete with output:
    """yaml
    - {order: o-12}
    """
    And the lifecycle events of the workflow should include 'workflow.started', 'task.started', 'workflow.correlation-started', 'workflow.status-changed', 'workflow.correlation-completed', 'workflow.status-changed', 'task.completed', 'workflow.completed'
