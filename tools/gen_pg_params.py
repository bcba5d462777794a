#!/usr/bin/env python3
"""Generate src/commands/dynamic_config/pg_params.tsv: PostgreSQL parameters per major version.

Usage: python3 tools/gen_pg_params.py PATRONI_YAML PG15_SETTINGS_TSV > src/commands/dynamic_config/pg_params.tsv

PATRONI_YAML: patroni/postgresql/available_parameters/0_postgres.yml of Patroni (type, min_val, max_val,
unit and possible values per version range, the data Patroni itself validates parameters with).
PG15_SETTINGS_TSV: a PostgreSQL 15 server's settings, one line per parameter:
    psql -AtF $'\\t' -c "select name, context, vartype, coalesce(unit,''), coalesce(min_val,''),
        coalesce(max_val,''), coalesce(array_to_string(enumvals, ','),'') from pg_settings order by name"
The context (when a change takes effect) comes from that PostgreSQL 15 pg_settings; the parameters
that PostgreSQL 15 lacks take theirs from CONTEXTS below (PostgreSQL's guc_tables.c of their
majors). Differences between Patroni's data and the server's pg_settings for 15 are reported on
stderr.
"""
import sys

import yaml

MAJORS = range(13, 18)

# Context of the parameters PostgreSQL 15 does not have (from guc_tables.c of 13, 14, 16 and 17).
CONTEXTS = {
    'allow_alter_system': 'sighup', 'commit_timestamp_buffers': 'postmaster',
    'createrole_self_grant': 'user', 'debug_io_direct': 'postmaster',
    'debug_logical_replication_streaming': 'user', 'debug_parallel_query': 'user',
    'enable_group_by_reordering': 'user', 'enable_presorted_aggregate': 'user',
    'event_triggers': 'superuser', 'gss_accept_delegation': 'sighup',
    'icu_validation_level': 'user', 'io_combine_limit': 'user', 'logical_replication_mode': 'user',
    'max_notify_queue_pages': 'postmaster', 'max_parallel_apply_workers_per_subscription': 'sighup',
    'multixact_member_buffers': 'postmaster', 'multixact_offset_buffers': 'postmaster',
    'notify_buffers': 'postmaster', 'operator_precedence_warning': 'user',
    'reserved_connections': 'postmaster', 'scram_iterations': 'user',
    'send_abort_for_crash': 'sighup', 'send_abort_for_kill': 'sighup',
    'serializable_buffers': 'postmaster', 'stats_temp_directory': 'sighup',
    'subtransaction_buffers': 'postmaster', 'summarize_wal': 'sighup',
    'sync_replication_slots': 'sighup', 'synchronized_standby_slots': 'sighup',
    'trace_connection_negotiation': 'postmaster', 'transaction_buffers': 'postmaster',
    'transaction_timeout': 'user', 'vacuum_buffer_usage_limit': 'user',
    'vacuum_cleanup_index_scale_factor': 'user', 'wal_summary_keep_time': 'sighup',
}

# Read-only (internal) parameters and the majors that have them (not in Patroni's data).
INTERNAL = {
    'block_size': (13, 17), 'data_checksums': (13, 17), 'data_directory_mode': (13, 17),
    'debug_assertions': (13, 17), 'huge_pages_status': (17, 17), 'in_hot_standby': (14, 17),
    'integer_datetimes': (13, 17), 'lc_collate': (13, 15), 'lc_ctype': (13, 15),
    'max_function_args': (13, 17), 'max_identifier_length': (13, 17), 'max_index_keys': (13, 17),
    'segment_size': (13, 17), 'server_encoding': (13, 17), 'server_version': (13, 17),
    'server_version_num': (13, 17), 'shared_memory_size': (15, 17),
    'shared_memory_size_in_huge_pages': (15, 17), 'ssl_library': (13, 17),
    'wal_block_size': (13, 17), 'wal_segment_size': (13, 17),
}


def spec_for(specs, major):
    lo, hi = major * 10000, major * 10000 + 9999
    for s in specs:
        if s['version_from'] <= hi and (s.get('version_till') is None or s['version_till'] > lo):
            return s
    return None


def num(v):
    if v is None:
        return ''
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v) if isinstance(v, float) else str(v)


def row_of(spec, section, context):
    if section == 'recovery_parameters':
        return (context, 'recovery', '', '', '', '')
    t = spec['type'].lower()
    values = ','.join(spec.get('possible_values') or [])
    return (context, t, spec.get('unit') or '', num(spec.get('min_val')), num(spec.get('max_val')), values)


def main():
    data = yaml.safe_load(open(sys.argv[1]))
    pg15 = {}
    for line in open(sys.argv[2]):
        f = line.rstrip('\n').split('\t')
        pg15[f[0].lower()] = f
    rows = {}
    for section in ('parameters', 'recovery_parameters'):
        for name, specs in data[section].items():
            name = name.lower()
            for major in MAJORS:
                spec = spec_for(specs, major)
                if spec is None:
                    continue
                context = pg15[name][1] if name in pg15 else CONTEXTS[name]
                rows.setdefault(name, {})[major] = row_of(spec, section, context)
                if major == 15 and section == 'parameters' and name in pg15:
                    p = pg15[name]
                    want = (p[3], p[4], p[5], p[6])
                    got = rows[name][major][2:]
                    if spec['type'] in ('Integer', 'Real') and (num(float(p[4])), num(float(p[5]))) != got[1:3]:
                        print(f'15 {name}: patroni {got} pg_settings {want}', file=sys.stderr)
    for name, (a, b) in INTERNAL.items():
        for major in range(a, b + 1):
            rows.setdefault(name, {})[major] = ('internal', 'internal', '', '', '', '')
    print('# PostgreSQL parameters of majors 13-17, generated by tools/gen_pg_params.py (see there).')
    print('# name\tmajors\tcontext\ttype\tunit\tmin\tmax\tvalues')
    for name in sorted(rows):
        by_major = rows[name]
        run = None
        for major in MAJORS:
            r = by_major.get(major)
            if run and r == run[2] and run[1] == major - 1:
                run[1] = major
                continue
            if run:
                print('\t'.join([name, f'{run[0]}-{run[1]}', *run[2]]))
            run = [major, major, r] if r else None
        if run:
            print('\t'.join([name, f'{run[0]}-{run[1]}', *run[2]]))


main()
