Feature: Call kinds beyond HTTP (declarative_wf)
  As an implementer of the workflow DSL
  I want openapi, grpc and asyncapi calls and every authentication scheme to work
  So that workflows can reach described services

  # The hosts (petstore3.swagger.io, httpbin.org, auth.example.com, broker.example.com) are
  # routed by the tests to a local stand-in server; <<GRPC_PORT>> is a local gRPC server.

  Scenario: Call OpenAPI 3 By Operation Id
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: openapi3-call
      version: '1.0.0'
    do:
      - findPets:
          call: openapi
          with:
            document:
              endpoint: https://petstore3.swagger.io/api/v3/openapi.json
            operationId: findPetsByStatus
            parameters:
              status: ${ .status }
          output:
            as: '{ names: [ .[].name ] }'
    """
    And given the workflow input is:
    """yaml
    status: available
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    names: [ Milou, Idefix ]
    """

  Scenario: Call OpenAPI With Unknown Operation Faults
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: openapi-unknown-operation
      version: '1.0.0'
    do:
      - findPet:
          call: openapi
          with:
            document:
              endpoint: https://petstore.swagger.io/v2/swagger.json
            operationId: findPetsByColor
    """
    When the workflow is executed
    Then the workflow should fault with error:
    """yaml
    type: https://serverlessworkflow.io/spec/1.0.0/errors/configuration
    status: 400
    instance: /do/0/findPet
    """

  Scenario: Call OpenAPI Not Found Is Caught By Status
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: openapi-not-found
      version: '1.0.0'
    do:
      - tryGetPet:
          try:
            - getPet:
                call: openapi
                with:
                  document:
                    endpoint: https://petstore.swagger.io/v2/swagger.json
                  operationId: getPetById
                  parameters:
                    petId: 404
          catch:
            errors:
              with:
                type: https://serverlessworkflow.io/spec/1.0.0/errors/communication
                status: 404
            as: err
            do:
              - report:
                  set:
                    status: ${ $err.status }
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    status: 404
    """

  Scenario: Call gRPC Unary Method From A Proto File
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: grpc-call
      version: '1.0.0'
    do:
      - greet:
          call: grpc
          with:
            proto:
              endpoint: file://../fixtures/greeter.proto
            service:
              name: greeter.v1.Greeter
              host: 127.0.0.1
              port: <<GRPC_PORT>>
            method: SayHello
            arguments:
              name: ${ .user }
              times: 1
          output:
            as: .message
    """
    And given the workflow input is:
    """yaml
    user: Ann
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    Hello Ann!
    """
    And greet should complete with output:
    """yaml
    Hello Ann!
    """

  Scenario: Call gRPC Error Has The Mapped Status
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: grpc-error
      version: '1.0.0'
    do:
      - greet:
          call: grpc
          with:
            proto:
              endpoint: file://../fixtures/greeter.proto
            service:
              name: greeter.v1.Greeter
              host: 127.0.0.1
              port: <<GRPC_PORT>>
            method: SayHello
            arguments:
              name: nobody
    """
    When the workflow is executed
    Then the workflow should fault with error:
    """yaml
    type: https://serverlessworkflow.io/spec/1.0.0/errors/communication
    status: 404
    title: NOT_FOUND
    instance: /do/0/greet
    """

  Scenario: Call AsyncAPI Publishes Over HTTP
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: asyncapi-publish
      version: '1.0.0'
    do:
      - announce:
          call: asyncapi
          with:
            document:
              endpoint: file://../fixtures/broker-asyncapi3.yaml
            operation: announceAdoption
            server:
              name: broker
            message:
              payload:
                petId: ${ .petId }
          output:
            as: '{ published: true }'
    """
    And given the workflow input is:
    """yaml
    petId: 7
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    published: true
    """

  Scenario: Call HTTP With OAuth2 Client Credentials
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: oauth2-call
      version: '1.0.0'
    use:
      authentications:
        authServer:
          oauth2:
            authority: https://auth.example.com
            grant: client_credentials
            client:
              id: app
              secret: app-secret
            scopes: [ pets ]
    do:
      - callProtected:
          call: http
          with:
            method: get
            endpoint:
              uri: https://auth.example.com/protected
              authentication:
                use: authServer
          output:
            as: '{ grant: .grant, scope: .scope }'
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    grant: client_credentials
    scope: pets
    """

  Scenario: Call HTTP With OIDC Password Grant From A Secret
    Given the secrets are:
    """yaml
    idp:
      authority: https://auth.example.com
      grant: password
      username: ann
      password: pw
      client:
        id: app
        secret: app-secret
        authentication: client_secret_post
    """
    And given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: oidc-secret-call
      version: '1.0.0'
    use:
      secrets: [ idp ]
    do:
      - callProtected:
          call: http
          with:
            method: get
            endpoint:
              uri: https://auth.example.com/protected
              authentication:
                oidc:
                  use: idp
          output:
            as: .username
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    ann
    """

  Scenario: Call HTTP With Wrong Basic Credentials Faults With Authentication Error
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: basic-auth-failure
      version: '1.0.0'
    do:
      - login:
          call: http
          with:
            method: get
            endpoint:
              uri: https://httpbin.org/basic-auth/serverless-workflow/conformance-test
              authentication:
                basic:
                  username: serverless-workflow
                  password: wrong
    """
    When the workflow is executed
    Then the workflow should fault with error:
    """yaml
    type: https://serverlessworkflow.io/spec/1.0.0/errors/authentication
    status: 401
    instance: /do/0/login
    """

  Scenario: Call HTTP With Digest Authentication
    Given a workflow with definition:
    """yaml
    document:
      dsl: '1.0.3'
      namespace: default
      name: digest-auth
      version: '1.0.0'
    do:
      - login:
          call: http
          with:
            method: get
            endpoint:
              uri: https://httpbin.org/digest-auth/auth/ann/s3cret
              authentication:
                digest:
                  username: ann
                  password: s3cret
          output:
            as: .authenticated
    """
    When the workflow is executed
    Then the workflow should complete with output:
    """yaml
    true
    """
