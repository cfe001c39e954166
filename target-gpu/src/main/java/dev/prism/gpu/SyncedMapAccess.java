package dev.prism.gpu;

import dev.prism.program.MapDef;
import dev.prism.target.MapAccess;
import java.util.List;

/**
 * User-space access to maps that live on a device between batches: {@code before} brings the
 * host copy up to date before every operation, {@code afterWrite} marks the device copy stale
 * after every write, so that the next batch uploads it.
 */
record SyncedMapAccess(MapAccess host, Runnable before, Runnable afterWrite) implements MapAccess {
    private MapAccess synced() {
        before.run();
        return host;
    }

    @Override
    public List<MapDef> defs() {
        return host.defs();
    }

    @Override
    public byte[] lookup(String map, byte[] key) {
        return synced().lookup(map, key);
    }

    @Override
    public void update(String map, byte[] key, byte[] value, long flags) {
        synced().update(map, key, value, flags);
        afterWrite.run();
    }

    @Override
    public boolean delete(String map, byte[] key) {
        boolean r = synced().delete(map, key);
        afterWrite.run();
        return r;
    }

    @Override
    public List<byte[]> keys(String map) {
        return synced().keys(map);
    }

    @Override
    public List<byte[]> drain(String ringbuf) {
        return synced().drain(ringbuf);
    }

    @Override
    public void setProgram(String progArray, int index, String program) {
        synced().setProgram(progArray, index, program);
        afterWrite.run();
    }
}
