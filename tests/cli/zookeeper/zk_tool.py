"""kazoo as a command-line tool for the ZooKeeper tests (zookeeper.rs): raw reads and writes of the
sandbox's ZooKeeper, independent of patctl.

Usage: python3 zk_tool.py HOSTS get KEY | set KEY VALUE | create KEY VALUE | keys PATH | delete PATH
"""
import json, sys
from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError
zk = KazooClient(hosts=sys.argv[1], timeout=5)
zk.start(timeout=5)
op, args = sys.argv[2], sys.argv[3:]
def walk(path, rel, out):
    for c in sorted(zk.get_children(path)):
        if zk.get_children(path + '/' + c):
            walk(path + '/' + c, rel + c + '/', out)
        else:
            out.append(rel + c)
try:
    if op == 'get':
        try:
            data, stat = zk.get(args[0])
            print(json.dumps([data.decode(), stat.version]))
        except NoNodeError:
            print('null')
    elif op == 'set':
        zk.set(args[0], args[1].encode())
    elif op == 'create':
        zk.create(args[0], args[1].encode(), makepath=True)
    elif op == 'keys':
        out = []
        try:
            walk(args[0], '', out)
        except NoNodeError:
            pass
        print(json.dumps(out))
    elif op == 'delete':
        try:
            zk.delete(args[0], recursive=True)
        except NoNodeError:
            pass
finally:
    zk.stop()
