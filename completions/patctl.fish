# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_patctl_global_optspecs
    string join \n c/config-file= d/dcs-url= k/insecure timeout= color= h/help V/version
end

function __fish_patctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_patctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_patctl_using_subcommand
    set -l cmd (__fish_patctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c patctl -n "__fish_patctl_needs_command" -s c -l config-file -d 'Configuration file (or a directory of YAML files)' -r -F
complete -c patctl -n "__fish_patctl_needs_command" -s d -l dcs-url -l dcs -d 'The DCS connect url, e.g. etcd3://127.0.0.1:2379/service' -r
complete -c patctl -n "__fish_patctl_needs_command" -l timeout -d 'Timeout in seconds for each DCS and REST call' -r
complete -c patctl -n "__fish_patctl_needs_command" -l color -d 'When to use colours' -r -f -a "auto\t'Colour when writing to a terminal and `NO_COLOR` is not set'
always\t'Always colour (also `CLICOLOR_FORCE=1`)'
never\t'Never colour'"
complete -c patctl -n "__fish_patctl_needs_command" -s k -l insecure -d 'Allow connections to SSL sites without certs'
complete -c patctl -n "__fish_patctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c patctl -n "__fish_patctl_needs_command" -s V -l version -d 'Print version'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "demote-cluster" -d 'Demote cluster to a standby cluster'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "dsn" -d 'Generate a dsn for the provided member, defaults to a dsn of the leader'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "edit-config" -d 'Edit cluster configuration'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "failover" -d 'Failover to a replica'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "flush" -d 'Discard scheduled events'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "history" -d 'Show the history of failovers/switchovers'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "list" -d 'List the Patroni members for a given Patroni'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "pause" -d 'Disable auto failover'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "promote-cluster" -d 'Promote cluster, make it run standalone'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "query" -d 'Query a Patroni PostgreSQL member'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "reinit" -d 'Reinitialize cluster member'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "reload" -d 'Reload cluster member configuration'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "remove" -d 'Remove cluster from DCS'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "restart" -d 'Restart cluster member'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "resume" -d 'Resume auto failover'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "show-config" -d 'Show cluster configuration'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "switchover" -d 'Switchover to a replica'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "topology" -d 'Prints ASCII topology for given cluster'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "version" -d 'Output version of patronictl command or a running Patroni instance'
complete -c patctl -n "__fish_patctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c patctl -n "__fish_patctl_using_subcommand demote-cluster" -l host -d 'Address of the remote node' -r
complete -c patctl -n "__fish_patctl_using_subcommand demote-cluster" -l port -d 'Port of the remote node' -r
complete -c patctl -n "__fish_patctl_using_subcommand demote-cluster" -l restore-command -d 'Command to restore WAL records from the remote primary' -r
complete -c patctl -n "__fish_patctl_using_subcommand demote-cluster" -l primary-slot-name -d 'Name of the slot on the remote node to use for replication' -r
complete -c patctl -n "__fish_patctl_using_subcommand demote-cluster" -l force -d 'Do not ask for confirmation at any point'
complete -c patctl -n "__fish_patctl_using_subcommand demote-cluster" -s h -l help -d 'Print help'
complete -c patctl -n "__fish_patctl_using_subcommand dsn" -s r -l role -d 'Give a dsn of any member with this role' -r -f -a "leader\t'The holder of the leader key'
primary\t'The leader of a primary (non-standby) cluster'
standby-leader\t'The leader of a standby cluster'
replica\t'Every member but the leader'
standby\t'Same as replica'
any\t'Every member'"
complete -c patctl -n "__fish_patctl_using_subcommand dsn" -s m -l member -d 'Generate a dsn for this member' -r
complete -c patctl -n "__fish_patctl_using_subcommand dsn" -l group -d 'Citus group' -r
complete -c patctl -n "__fish_patctl_using_subcommand dsn" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c patctl -n "__fish_patctl_using_subcommand edit-config" -l group -d 'Citus group' -r
complete -c patctl -n "__fish_patctl_using_subcommand edit-config" -s s -l set -d 'Set specific configuration value. Can be specified multiple times' -r
complete -c patctl -n "__fish_patctl_using_subcommand edit-config" -s p -l pg -d 'Set specific PostgreSQL parameter value. Shorthand for -s postgresql.parameters. Can be specified multiple times' -r
complete -c patctl -n "__fish_patctl_using_subcommand edit-config" -l apply -d 'Apply configuration from file. Use - for stdin' -r
complete -c patctl -n "__fish_patctl_using_subcommand edit-config" -l replace -d 'Apply configuration from file, replacing existing configuration. Use - for stdin' -r
complete -c patctl -n "__fish_patctl_using_subcommand edit-config" -s q -l quiet -d 'Do not show changes'
complete -c patctl -n "__fish_patctl_using_subcommand edit-config" -l force -d 'Do not ask for confirmation at any point'
complete -c patctl -n "__fish_patctl_using_subcommand edit-config" -s h -l help -d 'Print help'
complete -c patctl -n "__fish_patctl_using_subcommand failover" -l group -d 'Citus group' -r
complete -c patctl -n "__fish_patctl_using_subcommand failover" -l candidate -d 'The name of the candidate' -r
complete -c patctl -n "__fish_patctl_using_subcommand failover" -l force -d 'Do not ask for confirmation at any point'
complete -c patctl -n "__fish_patctl_using_subcommand failover" -s h -l help -d 'Print help'
complete -c patctl -n "__fish_patctl_using_subcommand flush" -l group -d 'Citus group' -r
complete -c patctl -n "__fish_patctl_using_subcommand flush" -s r -l role -d 'Flush only members with this role' -r -f -a "leader\t'The holder of the leader key'
primary\t'The leader of a primary (non-standby) cluster'
standby-leader\t'The leader of a standby cluster'
replica\t'Every member but the leader'
standby\t'Same as replica'
any\t'Every member'"
complete -c patctl -n "__fish_patctl_using_subcommand flush" -l force -d 'Do not ask for confirmation at any point'
complete -c patctl -n "__fish_patctl_using_subcommand flush" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c patctl -n "__fish_patctl_using_subcommand history" -l group -d 'Citus group' -r
complete -c patctl -n "__fish_patctl_using_subcommand history" -s f -l format -d 'Output format' -r -f -a "pretty\t'The bordered table'
tsv\t'Tab-separated values with a header line'
json\t'One JSON array per cluster'
yaml\t'One YAML document per cluster'
yml\t'Same as yaml'"
complete -c patctl -n "__fish_patctl_using_subcommand history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c patctl -n "__fish_patctl_using_subcommand list" -l group -d 'Citus group' -r
complete -c patctl -n "__fish_patctl_using_subcommand list" -s f -l format -d 'Output format' -r -f -a "pretty\t'The bordered table'
tsv\t'Tab-separated values with a header line'
json\t'One JSON array per cluster'
yaml\t'One YAML document per cluster'
yml\t'Same as yaml'"
complete -c patctl -n "__fish_patctl_using_subcommand list" -s w -l watch -d 'Auto update the screen every X seconds' -r
complete -c patctl -n "__fish_patctl_using_subcommand list" -s e -l extended -d 'Show some extra information'
complete -c patctl -n "__fish_patctl_using_subcommand list" -s t -l timestamp -d 'Print timestamp'
complete -c patctl -n "__fish_patctl_using_subcommand list" -s W -d 'Auto update the screen every 2 seconds'
complete -c patctl -n "__fish_patctl_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c patctl -n "__fish_patctl_using_subcommand pause" -l group -d 'Citus group' -r
complete -c patctl -n "__fish_patctl_using_subcommand pause" -l wait -d 'Wait until pause is applied on all nodes'
complete -c patctl -n "__fish_patctl_using_subcommand pause" -s h -l help -d 'Print help'
complete -c patctl -n "__fish_patctl_using_subcommand promote-cluster" -l force -d 'Do not ask for confirmation at any point'
complete -c patctl -n "__fish_patctl_using_subcommand promote-cluster" -s h -l help -d 'Print help'
complete -c patctl -n "__fish_patctl_using_subcommand query" -l group -d 'Citus group' -r
complete -c patctl -n "__fish_patctl_using_subcommand query" -l format -d 'Output format (pretty, tsv, json, yaml)' -r
complete -c patctl -n "__fish_patctl_using_subcommand query" -s f -l file -d 'Execute the SQL commands from this file' -r
complete -c patctl -n "__fish_patctl_using_subcommand query" -s U -l username -d 'database user name' -r
complete -c patctl -n "__fish_patctl_using_subcommand query" -s w -l watch -d 'Auto update the screen every X seconds' -r
complete -c patctl -n "__fish_patctl_using_subcommand query" -s r -l role -d 'The role of the query' -r -f -a "leader\t'The holder of the leader key'
primary\t'The leader of a primary (non-standby) cluster'
standby-leader\t'The leader of a standby cluster'
replica\t'Every member but the leader'
standby\t'Same as replica'
any\t'Every member'"
complete -c patctl -n "__fish_patctl_using_subcommand query" -s m -l member -d 'Query a specific member' -r
complete -c patctl -n "__fish_patctl_using_subcommand query" -l delimiter -d 'The column delimiter' -r
complete -c patctl -n "__fish_patctl_using_subcommand query" -s c -l command -d 'The SQL commands to execute' -r
complete -c patctl -n "__fish_patctl_using_subcommand query" -s d -l dbname -d 'database name to connect to' -r
complete -c patctl -n "__fish_patctl_using_subcommand query" -l password -d 'force password prompt'
complete -c patctl -n "__fish_patctl_using_subcommand query" -s W -d 'Auto update the screen every 2 seconds'
complete -c patctl -n "__fish_patctl_using_subcommand query" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c patctl -n "__fish_patctl_using_subcommand reinit" -l group -d 'Citus group' -r
complete -c patctl -n "__fish_patctl_using_subcommand reinit" -l force -d 'Do not ask for confirmation at any point'
complete -c patctl -n "__fish_patctl_using_subcommand reinit" -l from-leader -d 'Get basebackup from leader'
complete -c patctl -n "__fish_patctl_using_subcommand reinit" -l wait -d 'Wait until reinitialization completes'
complete -c patctl -n "__fish_patctl_using_subcommand reinit" -s h -l help -d 'Print help'
complete -c patctl -n "__fish_patctl_using_subcommand reload" -l group -d 'Citus group' -r
complete -c patctl -n "__fish_patctl_using_subcommand reload" -s r -l role -d 'Reload only members with this role' -r -f -a "leader\t'The holder of the leader key'
primary\t'The leader of a primary (non-standby) cluster'
standby-leader\t'The leader of a standby cluster'
replica\t'Every member but the leader'
standby\t'Same as replica'
any\t'Every member'"
complete -c patctl -n "__fish_patctl_using_subcommand reload" -l force -d 'Do not ask for confirmation at any point'
complete -c patctl -n "__fish_patctl_using_subcommand reload" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c patctl -n "__fish_patctl_using_subcommand remove" -l group -d 'Citus group' -r
complete -c patctl -n "__fish_patctl_using_subcommand remove" -s f -l format -d 'Output format' -r -f -a "pretty\t'The bordered table'
tsv\t'Tab-separated values with a header line'
json\t'One JSON array per cluster'
yaml\t'One YAML document per cluster'
yml\t'Same as yaml'"
complete -c patctl -n "__fish_patctl_using_subcommand remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c patctl -n "__fish_patctl_using_subcommand restart" -l group -d 'Citus group' -r
complete -c patctl -n "__fish_patctl_using_subcommand restart" -s r -l role -d 'Restart only members with this role' -r -f -a "leader\t'The holder of the leader key'
primary\t'The leader of a primary (non-standby) cluster'
standby-leader\t'The leader of a standby cluster'
replica\t'Every member but the leader'
standby\t'Same as replica'
any\t'Every member'"
complete -c patctl -n "__fish_patctl_using_subcommand restart" -l scheduled -d 'Timestamp of a scheduled restart in unambiguous format (e.g. ISO 8601)' -r
complete -c patctl -n "__fish_patctl_using_subcommand restart" -l pg-version -d 'Restart if the PostgreSQL version is less than provided (e.g. 9.5.2)' -r
complete -c patctl -n "__fish_patctl_using_subcommand restart" -l timeout -d 'Return error and fail over if necessary when restarting takes longer than this' -r
complete -c patctl -n "__fish_patctl_using_subcommand restart" -l any -d 'Restart a single member only'
complete -c patctl -n "__fish_patctl_using_subcommand restart" -l pending -d 'Restart if pending'
complete -c patctl -n "__fish_patctl_using_subcommand restart" -l force -d 'Do not ask for confirmation at any point'
complete -c patctl -n "__fish_patctl_using_subcommand restart" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c patctl -n "__fish_patctl_using_subcommand resume" -l group -d 'Citus group' -r
complete -c patctl -n "__fish_patctl_using_subcommand resume" -l wait -d 'Wait until pause is cleared on all nodes'
complete -c patctl -n "__fish_patctl_using_subcommand resume" -s h -l help -d 'Print help'
complete -c patctl -n "__fish_patctl_using_subcommand show-config" -l group -d 'Citus group' -r
complete -c patctl -n "__fish_patctl_using_subcommand show-config" -s h -l help -d 'Print help'
complete -c patctl -n "__fish_patctl_using_subcommand switchover" -l group -d 'Citus group' -r
complete -c patctl -n "__fish_patctl_using_subcommand switchover" -l leader -l primary -d 'The name of the current leader' -r
complete -c patctl -n "__fish_patctl_using_subcommand switchover" -l candidate -d 'The name of the candidate' -r
complete -c patctl -n "__fish_patctl_using_subcommand switchover" -l scheduled -d 'Timestamp of a scheduled switchover in unambiguous format (e.g. ISO 8601)' -r
complete -c patctl -n "__fish_patctl_using_subcommand switchover" -l force -d 'Do not ask for confirmation at any point'
complete -c patctl -n "__fish_patctl_using_subcommand switchover" -s h -l help -d 'Print help'
complete -c patctl -n "__fish_patctl_using_subcommand topology" -l group -d 'Citus group' -r
complete -c patctl -n "__fish_patctl_using_subcommand topology" -s w -l watch -d 'Auto update the screen every X seconds' -r
complete -c patctl -n "__fish_patctl_using_subcommand topology" -s W -d 'Auto update the screen every 2 seconds'
complete -c patctl -n "__fish_patctl_using_subcommand topology" -s h -l help -d 'Print help'
complete -c patctl -n "__fish_patctl_using_subcommand version" -l group -d 'Citus group' -r
complete -c patctl -n "__fish_patctl_using_subcommand version" -s h -l help -d 'Print help'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "demote-cluster" -d 'Demote cluster to a standby cluster'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "dsn" -d 'Generate a dsn for the provided member, defaults to a dsn of the leader'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "edit-config" -d 'Edit cluster configuration'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "failover" -d 'Failover to a replica'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "flush" -d 'Discard scheduled events'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "history" -d 'Show the history of failovers/switchovers'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "list" -d 'List the Patroni members for a given Patroni'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "pause" -d 'Disable auto failover'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "promote-cluster" -d 'Promote cluster, make it run standalone'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "query" -d 'Query a Patroni PostgreSQL member'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "reinit" -d 'Reinitialize cluster member'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "reload" -d 'Reload cluster member configuration'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "remove" -d 'Remove cluster from DCS'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "restart" -d 'Restart cluster member'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "resume" -d 'Resume auto failover'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "show-config" -d 'Show cluster configuration'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "switchover" -d 'Switchover to a replica'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "topology" -d 'Prints ASCII topology for given cluster'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "version" -d 'Output version of patronictl command or a running Patroni instance'
complete -c patctl -n "__fish_patctl_using_subcommand help; and not __fish_seen_subcommand_from demote-cluster dsn edit-config failover flush history list pause promote-cluster query reinit reload remove restart resume show-config switchover topology version help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
