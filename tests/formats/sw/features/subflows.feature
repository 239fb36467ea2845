Feature: Run a workflow as a child (declarative_wf)
  As an implementer of the workflow DSL
  I want run.workflow to run another definition as a child workflow
  So that workflows can be composed

  Scenario: Run Workflow Found Next To The Definition
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: features
      name: parent
      version: '1.0.0'
    do:
      - callChild:
          run:
            workflow:
              namespace: features
              name: child-greeter
              version: '1.0.0'
              input:
                name: ${ .user }
    """
    And given the workflow input is:
    """yaml
    user: Ann
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    greeting: Hello Ann
    """
    And callChild should complete

  Scenario: Run Workflow That Does Not Exist
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: features
      name: orphan
      version: '1.0.0'
    do:
      - callChild:
          run:
            workflow:
              namespace: features
              name: no-such-child
              version: '1.0.0'
    """
    When the workflow is executed
    Then the workflow should fault
