Feature: HTTP calls beyond the CTK (declarative_wf)
  As an implementer of the workflow DSL
  I want every property of call http to behave as the reference says
  So that workflows can talk to any HTTP service

  Scenario: Call HTTP With Body, Query, Headers And Raw Output
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: http-post
      version: '1.0.0'
    do:
      - addPet:
          call: http
          with:
            method: post
            endpoint: https://petstore.swagger.io/v2/pet
            headers:
              X-Request-Id: ${ .requestId }
            query:
              dryRun: 'false'
            body:
              name: ${ .name }
              status: available
      - getRaw:
          call: http
          with:
            method: get
            endpoint: https://petstore.swagger.io/v2/pet/2
            output: raw
          output:
            as: '{ added: $input, raw: (. | @base64d | fromjson | .name) }'
    """
    And given the workflow input is:
    """yaml
    requestId: r-42
    name: Rantanplan
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    added:
      id: 100
      name: Rantanplan
      status: available
    raw: Idefix
    """

  Scenario: Call HTTP Redirect Is An Error Unless Allowed
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: http-redirect
      version: '1.0.0'
    do:
      - followed:
          call: http
          with:
            method: get
            endpoint: https://httpbin.org/redirect-to-pet
            redirect: true
          output:
            as: '{ followed: .name }'
      - refused:
          try:
            - notFollowed:
                call: http
                with:
                  method: get
                  endpoint: https://httpbin.org/redirect-to-pet
          catch:
            errors:
              with:
                type: https://serverlessworkflow.io/spec/1.0.0/errors/communication
                status: 302
            as: err
            do:
              - report:
                  set:
                    followed: ${ $input.followed }
                    refusedWith: ${ $err.status }
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    followed: Milou
    refusedWith: 302
    """
