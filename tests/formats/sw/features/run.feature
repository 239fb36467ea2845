Feature: Run processes, cataloged functions and detached workflows (declarative_wf)
  As an implementer of the workflow DSL
  I want run.shell, run.script, catalogs and run.workflow with await false to work
  So that workflows can use processes and shared functions, safely off by default

  Scenario: Run Shell Is Off By Default
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: features
      name: shell-off
      version: '1.0.0'
    do:
      - runShell:
          run:
            shell:
              command: echo hello
    """
    And processes are enabled: none
    When the workflow is executed
    Then the workflow should fault with error:
    """yaml
    type: https://serverlessworkflow.io/spec/1.0.0/errors/configuration
    status: 400
    instance: /do/0/runShell
    """

  Scenario: Run Shell With Stdin And Arguments
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: features
      name: shell-on
      version: '1.0.0'
    do:
      - runShell:
          run:
            shell:
              stdin: ${ .message }
              command: |
                input=$(cat)
                echo "$input $1"
              arguments:
                - ${ .who }
            return: all
    """
    And given the workflow input is:
    """yaml
    message: Hello
    who: World
    """
    And processes are enabled: shell
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    code: 0
    stdout: "Hello World\n"
    stderr: ""
    """

  Scenario: Run Python Script Failing
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: features
      name: script-fails
      version: '1.0.0'
    do:
      - runScript:
          run:
            script:
              language: python
              code: |
                import sys
                sys.exit("no way")
    """
    And processes are enabled: script
    When the workflow is executed
    Then the workflow should fault with error:
    """yaml
    type: https://serverlessworkflow.io/spec/1.0.0/errors/runtime
    status: 500
    instance: /do/0/runScript
    """

  Scenario: Call A Cataloged Function
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: features
      name: cataloged
      version: '1.0.0'
    use:
      catalogs:
        local:
          endpoint:
            uri: file://catalog
    do:
      - greet:
          call: greet:1.0.0@local
          with:
            name: ${ .user }
    """
    And given the workflow input is:
    """yaml
    user: Ann
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    greeting: Hello, Ann
    """

  Scenario: Run Workflow Without Awaiting It
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: features
      name: detaching-parent
      version: '1.0.0'
    do:
      - startChild:
          run:
            workflow:
              namespace: features
              name: detached-child
              version: '1.0.0'
            await: false
    """
    And given the workflow input is:
    """yaml
    keep: me
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    keep: me
    """
    And startChild should complete
