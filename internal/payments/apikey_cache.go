package payments

import (
	"sync"
	"time"
)

// Every request authenticates its API key, and reading the key from the
// database cost a query per request, about a tenth of the server's time
// under load. Live keys found are kept for keyCacheTTL.
//
// A key deleted, or given its marketplace, through this process is
// dropped from the cache when that write commits, so the change shows at
// once here; another process sharing the database sees it within
// keyCacheTTL. A generation number keeps a read that raced with such a
// write from putting the old key back. Unknown secrets are never kept, so
// guessing cannot fill the cache.
const (
	keyCacheTTL  = time.Second
	keyCacheSize = 10000
)

type keyCache struct {
	mu         sync.Mutex
	generation uint64
	keys       map[string]cachedKey // by secret hash
}

type cachedKey struct {
	key     APIKey
	expires time.Time
}

// get returns the live key with secret hash, if kept and fresh, and the
// generation to pass to put after reading it from the database.
func (c *keyCache) get(hash string) (APIKey, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.keys[hash]
	if ok && time.Now().Before(k.expires) {
		return k.key, true, c.generation
	}
	return APIKey{}, false, c.generation
}

// put keeps k, read when the cache was at generation, unless a write has
// dropped keys since.
func (c *keyCache) put(k APIKey, generation uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if generation != c.generation {
		return
	}
	if c.keys == nil || len(c.keys) >= keyCacheSize {
		c.keys = make(map[string]cachedKey)
	}
	c.keys[k.SecretHash] = cachedKey{key: k, expires: time.Now().Add(keyCacheTTL)}
}

// drop forgets the key with secret hash, after a write changed it.
func (c *keyCache) drop(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	delete(c.keys, hash)
}
