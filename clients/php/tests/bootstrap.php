<?php

declare(strict_types=1);

// Composer's autoloader when installed with it; else a PSR-4 loader for
// src/ and tests/ (Debian's phpunit runs without Composer).
$vendor = __DIR__ . '/../vendor/autoload.php';
if (is_file($vendor)) {
    require $vendor;
    return;
}
spl_autoload_register(static function (string $class): void {
    foreach (['Syncq\\Tests\\' => __DIR__ . '/', 'Syncq\\' => __DIR__ . '/../src/'] as $ns => $dir) {
        if (str_starts_with($class, $ns)) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($ns))) . '.php';
            if (is_file($file)) {
                require $file;
            }
            return;
        }
    }
});
