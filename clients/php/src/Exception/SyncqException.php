<?php

declare(strict_types=1);

namespace Syncq\Exception;

/**
 * The base of every error the syncq client raises on purpose: catch it to
 * handle both a refused envelope and an unreachable Redis.
 */
class SyncqException extends \RuntimeException
{
}
