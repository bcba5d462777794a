
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'patctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'patctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'patctl' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file (or a directory of YAML files)')
            [CompletionResult]::new('--config-file', '--config-file', [CompletionResultType]::ParameterName, 'Configuration file (or a directory of YAML files)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'The DCS connect url, e.g. etcd3://127.0.0.1:2379/service')
            [CompletionResult]::new('--dcs-url', '--dcs-url', [CompletionResultType]::ParameterName, 'The DCS connect url, e.g. etcd3://127.0.0.1:2379/service')
            [CompletionResult]::new('--dcs', '--dcs', [CompletionResultType]::ParameterName, 'The DCS connect url, e.g. etcd3://127.0.0.1:2379/service')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Timeout in seconds for each DCS and REST call')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Allow connections to SSL sites without certs')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Allow connections to SSL sites without certs')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('demote-cluster', 'demote-cluster', [CompletionResultType]::ParameterValue, 'Demote cluster to a standby cluster')
            [CompletionResult]::new('dsn', 'dsn', [CompletionResultType]::ParameterValue, 'Generate a dsn for the provided member, defaults to a dsn of the leader')
            [CompletionResult]::new('edit-config', 'edit-config', [CompletionResultType]::ParameterValue, 'Edit cluster configuration')
            [CompletionResult]::new('failover', 'failover', [CompletionResultType]::ParameterValue, 'Failover to a replica')
            [CompletionResult]::new('flush', 'flush', [CompletionResultType]::ParameterValue, 'Discard scheduled events')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show the history of failovers/switchovers')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the Patroni members for a given Patroni')
            [CompletionResult]::new('pause', 'pause', [CompletionResultType]::ParameterValue, 'Disable auto failover')
            [CompletionResult]::new('promote-cluster', 'promote-cluster', [CompletionResultType]::ParameterValue, 'Promote cluster, make it run standalone')
            [CompletionResult]::new('query', 'query', [CompletionResultType]::ParameterValue, 'Query a Patroni PostgreSQL member')
            [CompletionResult]::new('reinit', 'reinit', [CompletionResultType]::ParameterValue, 'Reinitialize cluster member')
            [CompletionResult]::new('reload', 'reload', [CompletionResultType]::ParameterValue, 'Reload cluster member configuration')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove cluster from DCS')
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Restart cluster member')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Resume auto failover')
            [CompletionResult]::new('show-config', 'show-config', [CompletionResultType]::ParameterValue, 'Show cluster configuration')
            [CompletionResult]::new('switchover', 'switchover', [CompletionResultType]::ParameterValue, 'Switchover to a replica')
            [CompletionResult]::new('topology', 'topology', [CompletionResultType]::ParameterValue, 'Prints ASCII topology for given cluster')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Output version of patronictl command or a running Patroni instance')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'patctl;demote-cluster' {
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Address of the remote node')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port of the remote node')
            [CompletionResult]::new('--restore-command', '--restore-command', [CompletionResultType]::ParameterName, 'Command to restore WAL records from the remote primary')
            [CompletionResult]::new('--primary-slot-name', '--primary-slot-name', [CompletionResultType]::ParameterName, 'Name of the slot on the remote node to use for replication')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Do not ask for confirmation at any point')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'patctl;dsn' {
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Give a dsn of any member with this role')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'Give a dsn of any member with this role')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Generate a dsn for this member')
            [CompletionResult]::new('--member', '--member', [CompletionResultType]::ParameterName, 'Generate a dsn for this member')
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Citus group')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'patctl;edit-config' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Citus group')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Set specific configuration value. Can be specified multiple times')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Set specific configuration value. Can be specified multiple times')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Set specific PostgreSQL parameter value. Shorthand for -s postgresql.parameters. Can be specified multiple times')
            [CompletionResult]::new('--pg', '--pg', [CompletionResultType]::ParameterName, 'Set specific PostgreSQL parameter value. Shorthand for -s postgresql.parameters. Can be specified multiple times')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Apply configuration from file. Use - for stdin')
            [CompletionResult]::new('--replace', '--replace', [CompletionResultType]::ParameterName, 'Apply configuration from file, replacing existing configuration. Use - for stdin')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Do not show changes')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not show changes')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Do not ask for confirmation at any point')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'patctl;failover' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Citus group')
            [CompletionResult]::new('--candidate', '--candidate', [CompletionResultType]::ParameterName, 'The name of the candidate')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Do not ask for confirmation at any point')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'patctl;flush' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Citus group')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Flush only members with this role')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'Flush only members with this role')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Do not ask for confirmation at any point')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'patctl;history' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Citus group')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'patctl;list' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Citus group')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Auto update the screen every X seconds')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Auto update the screen every X seconds')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Show some extra information')
            [CompletionResult]::new('--extended', '--extended', [CompletionResultType]::ParameterName, 'Show some extra information')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Print timestamp')
            [CompletionResult]::new('--timestamp', '--timestamp', [CompletionResultType]::ParameterName, 'Print timestamp')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Auto update the screen every 2 seconds')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'patctl;pause' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Citus group')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until pause is applied on all nodes')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'patctl;promote-cluster' {
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Do not ask for confirmation at any point')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'patctl;query' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Citus group')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (pretty, tsv, json, yaml)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Execute the SQL commands from this file')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Execute the SQL commands from this file')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'database user name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'database user name')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Auto update the screen every X seconds')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Auto update the screen every X seconds')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'The role of the query')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'The role of the query')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Query a specific member')
            [CompletionResult]::new('--member', '--member', [CompletionResultType]::ParameterName, 'Query a specific member')
            [CompletionResult]::new('--delimiter', '--delimiter', [CompletionResultType]::ParameterName, 'The column delimiter')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The SQL commands to execute')
            [CompletionResult]::new('--command', '--command', [CompletionResultType]::ParameterName, 'The SQL commands to execute')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'database name to connect to')
            [CompletionResult]::new('--dbname', '--dbname', [CompletionResultType]::ParameterName, 'database name to connect to')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'force password prompt')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Auto update the screen every 2 seconds')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'patctl;reinit' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Citus group')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Do not ask for confirmation at any point')
            [CompletionResult]::new('--from-leader', '--from-leader', [CompletionResultType]::ParameterName, 'Get basebackup from leader')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until reinitialization completes')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'patctl;reload' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Citus group')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Reload only members with this role')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'Reload only members with this role')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Do not ask for confirmation at any point')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'patctl;remove' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Citus group')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'patctl;restart' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Citus group')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Restart only members with this role')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'Restart only members with this role')
            [CompletionResult]::new('--scheduled', '--scheduled', [CompletionResultType]::ParameterName, 'Timestamp of a scheduled restart in unambiguous format (e.g. ISO 8601)')
            [CompletionResult]::new('--pg-version', '--pg-version', [CompletionResultType]::ParameterName, 'Restart if the PostgreSQL version is less than provided (e.g. 9.5.2)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Return error and fail over if necessary when restarting takes longer than this')
            [CompletionResult]::new('--any', '--any', [CompletionResultType]::ParameterName, 'Restart a single member only')
            [CompletionResult]::new('--pending', '--pending', [CompletionResultType]::ParameterName, 'Restart if pending')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Do not ask for confirmation at any point')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'patctl;resume' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Citus group')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until pause is cleared on all nodes')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'patctl;show-config' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Citus group')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'patctl;switchover' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Citus group')
            [CompletionResult]::new('--leader', '--leader', [CompletionResultType]::ParameterName, 'The name of the current leader')
            [CompletionResult]::new('--primary', '--primary', [CompletionResultType]::ParameterName, 'The name of the current leader')
            [CompletionResult]::new('--candidate', '--candidate', [CompletionResultType]::ParameterName, 'The name of the candidate')
            [CompletionResult]::new('--scheduled', '--scheduled', [CompletionResultType]::ParameterName, 'Timestamp of a scheduled switchover in unambiguous format (e.g. ISO 8601)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Do not ask for confirmation at any point')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'patctl;topology' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Citus group')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Auto update the screen every X seconds')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Auto update the screen every X seconds')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Auto update the screen every 2 seconds')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'patctl;version' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Citus group')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'patctl;help' {
            [CompletionResult]::new('demote-cluster', 'demote-cluster', [CompletionResultType]::ParameterValue, 'Demote cluster to a standby cluster')
            [CompletionResult]::new('dsn', 'dsn', [CompletionResultType]::ParameterValue, 'Generate a dsn for the provided member, defaults to a dsn of the leader')
            [CompletionResult]::new('edit-config', 'edit-config', [CompletionResultType]::ParameterValue, 'Edit cluster configuration')
            [CompletionResult]::new('failover', 'failover', [CompletionResultType]::ParameterValue, 'Failover to a replica')
            [CompletionResult]::new('flush', 'flush', [CompletionResultType]::ParameterValue, 'Discard scheduled events')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show the history of failovers/switchovers')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the Patroni members for a given Patroni')
            [CompletionResult]::new('pause', 'pause', [CompletionResultType]::ParameterValue, 'Disable auto failover')
            [CompletionResult]::new('promote-cluster', 'promote-cluster', [CompletionResultType]::ParameterValue, 'Promote cluster, make it run standalone')
            [CompletionResult]::new('query', 'query', [CompletionResultType]::ParameterValue, 'Query a Patroni PostgreSQL member')
            [CompletionResult]::new('reinit', 'reinit', [CompletionResultType]::ParameterValue, 'Reinitialize cluster member')
            [CompletionResult]::new('reload', 'reload', [CompletionResultType]::ParameterValue, 'Reload cluster member configuration')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove cluster from DCS')
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Restart cluster member')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Resume auto failover')
            [CompletionResult]::new('show-config', 'show-config', [CompletionResultType]::ParameterValue, 'Show cluster configuration')
            [CompletionResult]::new('switchover', 'switchover', [CompletionResultType]::ParameterValue, 'Switchover to a replica')
            [CompletionResult]::new('topology', 'topology', [CompletionResultType]::ParameterValue, 'Prints ASCII topology for given cluster')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Output version of patronictl command or a running Patroni instance')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'patctl;help;demote-cluster' {
            break
        }
        'patctl;help;dsn' {
            break
        }
        'patctl;help;edit-config' {
            break
        }
        'patctl;help;failover' {
            break
        }
        'patctl;help;flush' {
            break
        }
        'patctl;help;history' {
            break
        }
        'patctl;help;list' {
            break
        }
        'patctl;help;pause' {
            break
        }
        'patctl;help;promote-cluster' {
            break
        }
        'patctl;help;query' {
            break
        }
        'patctl;help;reinit' {
            break
        }
        'patctl;help;reload' {
            break
        }
        'patctl;help;remove' {
            break
        }
        'patctl;help;restart' {
            break
        }
        'patctl;help;resume' {
            break
        }
        'patctl;help;show-config' {
            break
        }
        'patctl;help;switchover' {
            break
        }
        'patctl;help;topology' {
            break
        }
        'patctl;help;version' {
            break
        }
        'patctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
